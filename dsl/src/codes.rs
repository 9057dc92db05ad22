//! Diagnostic codes. Every diagnostic carries one; they are stable, so docs, editors and
//! CI can refer to them. `P00xx` syntax, `P01xx` declarations and names, `P02xx` fields
//! and types, `P03xx` time and windows, `P04xx` lints (warnings), `P05xx` connectors.

/// Syntax error: the text does not follow the grammar (also bad literals such as `10sec`
/// or an unterminated string).
pub const SYNTAX: &str = "P0001";
/// A declaration or stage of the language that this version does not implement yet
/// (`run`, `track`, …).
pub const NOT_SUPPORTED: &str = "P0002";
/// Brackets or an expression nested deeper than the front end allows (64 brackets, 256
/// operations): a program that deep would overflow the stack.
pub const NESTED_TOO_DEEPLY: &str = "P0003";

/// Two declarations (sources, sinks, pipelines) with the same name, or a repeated
/// `event_time` line.
pub const DUPLICATE_DECLARATION: &str = "P0101";
/// `from` names neither a source nor a pipeline.
pub const UNKNOWN_INPUT: &str = "P0102";
/// `to` names no sink.
pub const UNKNOWN_SINK: &str = "P0103";
/// Pipelines read each other in a cycle.
pub const PIPELINE_CYCLE: &str = "P0104";
/// `lookup` names no table.
pub const UNKNOWN_TABLE: &str = "P0105";
/// A table declaration without a usable key (missing, unknown, nullable or `f64`), or
/// with more than one `key` or `refresh` line, or a refresh period that is not positive.
pub const BAD_TABLE: &str = "P0106";

/// A sink receives records of two different shapes (from two pipelines, a late route or a
/// lookup's miss route).
pub const SINK_SHAPES: &str = "P0107";
/// `infer` names no model.
pub const UNKNOWN_MODEL: &str = "P0108";
/// A `model` declaration that does not fit its file: the file cannot be read or is not a
/// model, an input or output the model does not have, another element type, a shape that
/// is not one value per record, or a model input left undeclared.
pub const BAD_MODEL: &str = "P0109";
/// A `model` declaration in a `weir` built without the model format's support (the
/// `onnx` cargo feature).
pub const MODEL_SUPPORT_MISSING: &str = "P0110";

/// Unknown type name in a schema (`float` → did you mean `f64`).
pub const UNKNOWN_TYPE: &str = "P0201";
/// `event_time` names an unknown field, or a field that is not a non-null `timestamp`.
pub const BAD_EVENT_TIME: &str = "P0202";
/// An expression or `key by` names a field the record does not have.
pub const UNKNOWN_FIELD: &str = "P0203";
/// Call of an unknown function.
pub const UNKNOWN_FUNCTION: &str = "P0204";
/// A function or aggregate called with the wrong number or types of arguments.
pub const BAD_ARGUMENTS: &str = "P0205";
/// Operand types that an operator does not accept (`"a" * 2`, `ts > 5`, `not temp`).
pub const TYPE_MISMATCH: &str = "P0206";
/// The condition of `where` is not a `bool`.
pub const WHERE_NOT_BOOL: &str = "P0207";
/// Two fields with the same name in one record (schema, `select`, `aggregate`).
pub const DUPLICATE_FIELD: &str = "P0208";
/// An output field needs a name (`select temp * 2` → `select t2 = temp * 2`).
pub const MISSING_NAME: &str = "P0209";
/// An aggregate function outside `aggregate`, or something else than an aggregate call
/// inside it.
pub const MISPLACED_AGGREGATE: &str = "P0210";
/// The type of an expression cannot be known (a field set to plain `null`).
pub const UNKNOWN_TYPE_OF_NULL: &str = "P0211";
/// `detect … using <algorithm>` names no known anomaly detector.
pub const UNKNOWN_DETECTOR: &str = "P0212";
/// A detector parameter that does not exist, is repeated, or has a value of the wrong kind
/// or range (`confidence: 150%`, `history: 0`).
pub const BAD_DETECTOR_PARAMETER: &str = "P0213";
/// The key fields of a `join` have different types on the two sides, or a type that
/// cannot be a key (`f64`).
pub const JOIN_KEY_TYPES: &str = "P0214";
/// `infer` given fields that do not fit its model: the wrong number, a field that is not
/// a number (or a float for an `i64` input), or an output the model does not declare.
pub const BAD_INFER: &str = "P0215";

/// A `regex_match` / `regex_extract` pattern that is not a constant string or does not
/// compile, or a capture group the pattern does not have.
pub const BAD_PATTERN: &str = "P0230";
/// A `timestamp(text, format)` format that is not a constant string or not a valid
/// strftime format with a date.
pub const BAD_TIME_FORMAT: &str = "P0231";
/// An `if` / `case` whose condition is not a `bool`, or whose values have different types.
pub const BAD_CONDITIONAL: &str = "P0232";
/// `keep {…}` after an aggregate other than `arg_max` / `arg_min`.
pub const KEEP_WITHOUT_ARG: &str = "P0233";
/// `collect(x)` of a list: lists do not nest.
pub const NESTED_LIST: &str = "P0234";
/// A list field (from `collect`) reaching a sink whose format has no lists (CSV).
pub const SINK_CANNOT_HOLD_LIST: &str = "P0235";
/// `unnest <field>` of a field that is not a list.
pub const UNNEST_NOT_A_LIST: &str = "P0236";
/// `unnest … as <name>` or `with ordinality as <name>` giving a name that the output
/// records already have (a field the unnest copies, or another of its new fields).
pub const UNNEST_NAME_CLASH: &str = "P0237";
/// The SQL of a scheduled `query` does not parse, or is not one `SELECT`.
pub const BAD_SQL: &str = "P0250";
/// A scheduled `query` reads a table that is not a `parquet(…)` lake of the file.
pub const UNKNOWN_LAKE_TABLE: &str = "P0251";
/// A scheduled `query` names a column its lake tables do not have.
pub const UNKNOWN_LAKE_COLUMN: &str = "P0252";
/// A scheduled `query` sends its rows to an unknown sink, or to a lake it reads itself.
pub const BAD_QUERY_SINK: &str = "P0253";
/// A scheduled `query`'s `every` or `at` is not a schedule (zero, or `at` not a time of
/// day within the period).
pub const BAD_QUERY_SCHEDULE: &str = "P0254";
/// A bare number where a duration is needed (`window tumbling 60` → `60s`).
pub const DURATION_WITHOUT_UNIT: &str = "P0301";
/// A window on records without event time (the source has no `event_time`, or a stage
/// removed the event-time field).
pub const WINDOW_WITHOUT_EVENT_TIME: &str = "P0302";
/// `window` not followed by `aggregate`, or `aggregate` without a `window` before it.
pub const WINDOW_WITHOUT_AGGREGATE: &str = "P0303";
/// A window kind or clause not supported yet (sliding, session, global, `emit`, …).
pub const UNSUPPORTED_WINDOW: &str = "P0304";
/// A window size that is not positive, or an offset outside `0 ≤ offset < size`.
pub const BAD_WINDOW_SIZE: &str = "P0305";
/// `watermark` on a source without `event_time`.
pub const WATERMARK_WITHOUT_EVENT_TIME: &str = "P0306";

/// A trigger that cannot fire as written (`count(0)`, a delay of `0s`).
pub const BAD_TRIGGER: &str = "P0307";
/// A window clause given twice (`allow late` twice, two accumulation modes, …).
pub const DUPLICATE_CLAUSE: &str = "P0308";
/// A `test` block that does not fit the program: an unknown source, sink or field, or a
/// value of the wrong type.
pub const BAD_TEST: &str = "P0309";
/// A `join` time bound that cannot work: `within` or `window` on an input without event
/// time, or a window kind other than `tumbling` or `sliding`.
pub const BAD_JOIN_TIME: &str = "P0310";
/// A sliding window so fine that one record would fall in more than 10,000 windows
/// (`window sliding 1d every 1ms`).
pub const TOO_MANY_WINDOWS: &str = "P0311";
/// `window until <field> [from <field>]` names a field that is not a `timestamp`, or a
/// nullable one: the window's bounds come from it.
pub const BAD_WINDOW_BOUND: &str = "P0312";
/// A `window count <n>` with a clause (`emit`, `allow late`, …): count windows are
/// emitted once each, when their last record arrives in event-time order.
pub const COUNT_WINDOW_CLAUSE: &str = "P0313";
/// `dedupe by … within <d>` with an interval that is not positive, or on an input
/// without event time.
pub const BAD_DEDUPE: &str = "P0314";
/// `top(x, n)` / `bottom(x, n)` without a constant whole `n` from 1 to
/// [`weir_engine::plan::MAX_TOP_N`] (or with the arguments the wrong way round).
pub const BAD_TOP_COUNT: &str = "P0315";
/// `top(x, n) keep {a}` where `a` is a list: the kept fields become lists, and lists do
/// not nest.
pub const TOP_KEEPS_LIST: &str = "P0316";
/// `window <kind> on processing time` with a kind other than `tumbling` or `sliding`, or
/// with a clause (`emit`, `allow late`, …): processing-time windows fire once each, when
/// the run's clock passes their end.
pub const BAD_PROCESSING_WINDOW: &str = "P0317";

/// Warning or note: window settings that are legal but probably not what was meant
/// (lateness a finishing trigger ignores, repeated panes in `discard` mode, no late route).
pub const WINDOW_HAZARD: &str = "P0403";
/// Warning: the left side of `??` can never be null, so the right side is never used.
pub const USELESS_COALESCE: &str = "P0401";
/// Warning: a pipeline neither writes to a sink nor is read by another pipeline.
pub const UNUSED_OUTPUT: &str = "P0402";
/// Warning: `on error to` on a pipeline that reads another pipeline; only sources reject
/// input, so the route never receives anything.
pub const USELESS_ERROR_ROUTE: &str = "P0404";
/// Warning: a `join` without `within` or `window` keeps every record of both inputs for
/// the whole run.
pub const UNBOUNDED_JOIN: &str = "P0405";
/// Warning: a source whose records may arrive out of order (MQTT, jittered sensors)
/// declares `event_time` but no `watermark`, so every reading overtaken by a newer one is
/// late for its window.
pub const EVENT_TIME_WITHOUT_WATERMARK: &str = "P0406";
/// Warning: `live` on a `chart` sink, which is always streamed.
pub const LIVE_CHART: &str = "P0407";
/// Warning: a `live` or `chart` sink in a file that says `serve off`.
pub const LIVE_BUT_NOT_SERVED: &str = "P0408";

/// `checkpoint every d`: an interval that is not positive (`every 0s`, `every -5s`).
pub const BAD_CHECKPOINT_INTERVAL: &str = "P0240";
/// A second `checkpoint` statement: a run has one checkpoint interval and directory.
pub const DUPLICATE_CHECKPOINT: &str = "P0241";
/// `checkpoint … to ""`: an empty checkpoint directory.
pub const EMPTY_CHECKPOINT_DIR: &str = "P0242";
/// A source with more than one `on overload …` line.
pub const DUPLICATE_OVERLOAD: &str = "P0243";
/// `on overload drop` on a source that is read at the pipeline's pace (a file, a
/// simulator): it has nothing to drop.
pub const CANNOT_DROP_ON_OVERLOAD: &str = "P0244";

/// The connector catalog rejected a connector call or one of its options.
pub const CONNECTOR: &str = "P0501";
/// A sink option names a field the records written to the sink do not have (a topic
/// template's `{devce_id}`, a `partition_by` key).
pub const SINK_UNKNOWN_FIELD: &str = "P0502";
/// A sink option uses a field of the wrong type (`partition_by: [hour(n)]` of an `i64`).
pub const SINK_FIELD_TYPE: &str = "P0503";
/// A sink writes the file a source or table of the same program reads (opening it for
/// writing would erase the input).
pub const SINK_OVERWRITES_INPUT: &str = "P0504";
/// Two sinks write the same file (their records would interleave).
pub const SINKS_SHARE_A_FILE: &str = "P0505";
/// A `serve` address that is not `ip:port`.
pub const BAD_SERVE_ADDRESS: &str = "P0506";
/// `serve on` an address beyond loopback without `token env`.
pub const SERVE_BEYOND_LOOPBACK_WITHOUT_TOKEN: &str = "P0507";
/// Two `serve` declarations in one file.
pub const SERVE_TWICE: &str = "P0508";
/// `token env` naming something that is not an environment variable name.
pub const BAD_TOKEN_VARIABLE: &str = "P0509";

/// An `alert` condition (`critical when …`, `resolve when …`) that is not a `bool`.
pub const ALERT_CONDITION_NOT_BOOL: &str = "P0220";
/// An alert template (`id "…"`, `message "…"`) that does not parse: a `{field`
/// without its `}`, or a format other than `:.N`.
pub const BAD_TEMPLATE: &str = "P0221";
/// An `alert` stage that cannot work as written: no level and no `deadman`, a level or
/// clause given twice, `flapping` thresholds outside 0…1 or not `low < high`.
pub const BAD_ALERT: &str = "P0222";
/// `silenced by <table>` names a table without the silence columns: `pattern` (string),
/// `starts` and `ends` (timestamps).
pub const BAD_SILENCE_TABLE: &str = "P0223";
/// An `alert` duration that is not positive (`repeat every 0s`, `deadman 0s`; `for` and
/// `keep firing for` may be `0s`).
pub const BAD_ALERT_DURATION: &str = "P0320";
/// `for`, `keep firing for`, `repeat every` or `deadman` on records without event time.
pub const ALERT_WITHOUT_EVENT_TIME: &str = "P0321";
