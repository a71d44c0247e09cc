"""The load-test runner's library: processes, InfluxDB, load generators, report."""
