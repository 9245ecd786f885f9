// Package moment reads the times and ages users type on the command line:
// --from, --at, --to, --since and --retain all take the same spellings.
package moment

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Age reads a duration that may be given in days ("30d"), as retention
// and history usually are, or as Go writes durations ("36h", "15m").
func Age(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (30d, 12h, 15m)", s)
	}
	return d, nil
}

// Parse reads a moment: an RFC 3339 time, or an age back from now ("15m",
// "2d"). It returns UTC.
func Parse(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := Age(s); err == nil {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a duration back from now (15m, 2d)", s)
}
