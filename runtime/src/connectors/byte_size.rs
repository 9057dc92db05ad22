//! Sizes in bytes as options write them: `128MB`, `64KiB`, `512B`.

/// A size such as `128MB`, `64KiB` or `512B` in bytes (KB/MB/GB are powers of 1000,
/// KiB/MiB/GiB of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit {
        "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    let number: f64 = number.replace('_', "").parse().ok()?;
    let bytes = (number * scale as f64).round();
    (bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}
