package sim

import (
	"encoding/json"
	"strconv"
	"testing"
)

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

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "ctl \x01\n\t", "O'Hare", "caf\xe9 invalid", "日本"} {
		got := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encoded as %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%s round-trips to %q, want %q", strconv.Quote(s), back, wantBack)
		}
	}
}
