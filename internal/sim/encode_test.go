package sim

import "testing"

func TestAppendFixed(t *testing.T) {
	tests := []struct {
		v    float64
		d    int
		want string
	}{
		{41.878123, 6, "41.878123"}, {41.8781, 6, "41.8781"}, {-87.6298, 6, "-87.6298"}, {-0.0000004, 6, "0"},
		{0.05, 2, "0.05"}, {12.34, 1, "12.3"}, {90, 0, "90"}, {-3.45, 1, "-3.5"}, {0, 3, "0"}, {1e300, 2, "1e+300"},
	}
	for _, tt := range tests {
		if got := string(appendFixed(nil, tt.v, tt.d)); got != tt.want {
			t.Errorf("appendFixed(%v, %d) = %q, want %q", tt.v, tt.d, got, tt.want)
		}
	}
}
