import { defineJob, sensorSource } from "@keyflow/functions-sdk";

/**
 * What `npm start` runs: the book's keyed transformation on the sensor source — the highest
 * temperature seen so far per sensor — printed as readings arrive (10 sensors, 20 rounds of
 * readings a second, for 5 seconds).
 */
export default defineJob({ name: "max-temperature-per-sensor" }, (env) => {
  env
    .fromSource(sensorSource({ sensors: 10, readingsPerSensor: 100, roundsPerSecond: 20 }), "Sensors")
    .setParallelism(2)
    .keyBy((reading) => reading.id)
    .maxBy("temperature")
    .name("MaxTemperature")
    .map((r) => `${r.id} max ${r.temperature.toFixed(2)} °F (at t=${r.timestamp} ms)`)
    .print();
});
