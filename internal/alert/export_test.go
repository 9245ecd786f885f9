package alert

// Paired lets the benchmarks of package alert_test, which may import the
// packages that import this one, measure as BenchmarkIngest does.
var Paired = paired
