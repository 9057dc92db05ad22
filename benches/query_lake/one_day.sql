SELECT device_id,
       count(*)        AS n,
       avg(temp)       AS avg_temp,
       max(temp)       AS max_temp,
       min(seq)        AS first_seq
FROM readings
WHERE date = DATE '2024-05-04'
GROUP BY device_id
ORDER BY device_id
