package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetwatch/fleetwatch/internal/alert"
)

// --incidents and --truth: the same seed gives the same records and the
// same truth, written whole at exit, in the shape alert.ReadTruth reads.
func TestSimIncidentsAndTruth(t *testing.T) {
	dir := t.TempDir()
	runOnce := func(name string) (string, []byte) {
		path := filepath.Join(dir, name)
		out, errOut, code := inProcess(fleetsim, "--output", "jsonl", "--speedup", "max", "--duration", "90m", "--seed", "5",
			"--start", "2026-11-23T07:00:00Z", "--progress", "0", "--incidents", "default", "--truth", path)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return out, b
	}
	out1, truth1 := runOnce("a.jsonl")
	out2, truth2 := runOnce("b.jsonl")
	if out1 != out2 || !bytes.Equal(truth1, truth2) {
		t.Fatal("same seed and incidents gave different runs")
	}
	truth, err := alert.ReadTruth(bytes.NewReader(truth1))
	if err != nil || len(truth) == 0 {
		t.Fatalf("%d conditions, %v:\n%s", len(truth), err, truth1)
	}
	kinds := map[alert.Kind]bool{}
	for _, tr := range truth {
		kinds[tr.Kind] = true
		if tr.Start.IsZero() || tr.End.Before(tr.Start) || tr.Line == "" {
			t.Fatalf("bad condition %+v", tr)
		}
	}
	for _, k := range []alert.Kind{alert.OffRoute, alert.FeedSilent, alert.Stale, alert.Late} {
		if !kinds[k] {
			t.Errorf("no %s in 90 minutes of default incidents", k)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestSimIncidentsUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--incidents", "meteor:1"}, 2, `unknown incident "meteor"`},
		{[]string{"--incidents", "late:many"}, 2, "kind:count"},
		{[]string{"--incidents", "default", "--shard", "0/2"}, 2, "without --shard"},
		{[]string{"--truth", filepath.Join(dir, "no", "such", "t.jsonl")}, 1, "writable directory"},
	} {
		_, errOut, code := inProcess(fleetsim, append([]string{"--output", "jsonl", "--duration", "1s", "--progress", "0"}, tt.args...)...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}
