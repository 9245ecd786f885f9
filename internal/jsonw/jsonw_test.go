package jsonw

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "ctl \x01\n\t", "O'Hare", "caf\xe9 invalid", "日本"} {
		got := AppendString(nil, s)
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
