/**
 * What `npm start` runs: the book's AverageSensorReadings — per sensor, the average temperature
 * in °C over tumbling one-second windows of event time, with watermarks five seconds behind the
 * readings. The sensor source is bounded and paced (10 sensors, 20 rounds of readings a second
 * for 5 seconds), so averages print as event time passes and the job ends by itself.
 */
export { default } from "./event-time/average-sensor-readings.js";
