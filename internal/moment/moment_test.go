package moment

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-30T08:15:00Z", time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC), true},
		{"2026-11-30T09:15:00+01:00", time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC), true},
		{"15m", now.Add(-15 * time.Minute), true},
		{"2d", now.Add(-48 * time.Hour), true},
		{"1.5d", now.Add(-36 * time.Hour), true},
		{"-5m", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := Parse(tt.in, now)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "0": 0} {
		if got, err := Age(in); err != nil || got != want {
			t.Errorf("Age(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1d", "xd", "soon", "-3h"} {
		if _, err := Age(in); err == nil {
			t.Errorf("Age(%q) accepted", in)
		}
	}
}
