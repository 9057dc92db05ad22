SELECT device_id,
       count(*)        AS n,
       avg(temp)       AS avg_temp,
       max(vibration)  AS max_vibration,
       sum(power)      AS energy,
       max(seq)        AS last_seq
FROM readings
GROUP BY device_id
ORDER BY device_id
