# The IoT query the benchmark scripts share (sourced, not run): the `sensors` simulator's
# readings keyed by device, a tumbling window, average temperature and count, to a file.
#   iot_query DEVICES RATE EVENTS WINDOW OUT_FILE [MORE_SENSOR_ARGUMENTS]
# prints the .pipe; MORE_SENSOR_ARGUMENTS is appended to the sensors() call, e.g.
# ", jitter: 2s".
iot_query() {
  cat <<PIPE
source readings = sensors(devices: $1, rate: $2, events: $3, seed: 7, anomaly_rate: 0.001${6:-}) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 5s
}
sink out = file("$5")
pipeline device_avg {
  from readings
  | key by device_id
  | window tumbling $4
  | aggregate avg_temp = avg(temp), readings = count()
  | to out
}
PIPE
}
