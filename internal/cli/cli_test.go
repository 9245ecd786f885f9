package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/fleetwatch/fleetwatch/internal/cli"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// run executes a binary and returns stdout, stderr and the exit code.
func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return out.String(), errOut.String(), code
}

type summary struct {
	Vehicles []struct {
		VehicleID string  `json:"vehicle_id"`
		Line      string  `json:"line"`
		Lat       float64 `json:"lat"`
		TS        string  `json:"ts"`
	} `json:"vehicles"`
	Lines []struct {
		Line     string  `json:"line"`
		Vehicles int     `json:"vehicles"`
		Speed    float64 `json:"avg_speed_kmh"`
	} `json:"lines"`
	Stations []struct {
		StationID string `json:"station_id"`
		Name      string `json:"name"`
	} `json:"stations"`
	Weather []struct {
		Area string `json:"area"`
	} `json:"weather"`
	Stats struct {
		Consumed         map[string]int64            `json:"consumed"`
		Rejected         map[string]int64            `json:"rejected"`
		RejectedByReason map[string]map[string]int64 `json:"rejected_by_reason"`
	} `json:"stats"`
}

// The acceptance line: ≥ 10 vehicles on ≥ 2 lines, ≥ 5 named
// stations, ≥ 1 weather area, none rejected.
func TestSnapshotDemoJSON(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	out, errOut, code := run(t, bin, "snapshot", "--demo", "--after", "6s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	lines := map[string]bool{}
	for _, v := range s.Vehicles {
		lines[v.Line] = true
		if v.VehicleID == "" || v.TS == "" || v.Lat == 0 {
			t.Errorf("incomplete vehicle %+v", v)
		}
	}
	named := 0
	for _, st := range s.Stations {
		if st.Name != "" {
			named++
		}
	}
	if len(s.Vehicles) < 10 || len(lines) < 2 || named < 5 || len(s.Weather) < 1 {
		t.Fatalf("%d vehicles on %d lines, %d named stations, %d weather areas", len(s.Vehicles), len(lines), named, len(s.Weather))
	}
	for k, n := range s.Stats.Rejected {
		if n != 0 {
			t.Errorf("rejected %s: %d", k, n)
		}
	}
	if s.Stats.Consumed["vehicles"] < int64(len(s.Vehicles)) {
		t.Errorf("consumed %v for %d vehicles", s.Stats.Consumed, len(s.Vehicles))
	}
}

func TestSnapshotTextFrameFits(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	out, errOut, code := run(t, bin, "snapshot", "--demo", "--after", "2s", "--width", "100", "--height", "30")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out = strings.TrimSuffix(out, "\n")
	rows := strings.Split(out, "\n")
	if len(rows) != 30 {
		t.Fatalf("%d lines, want 30:\n%s", len(rows), out)
	}
	braille := 0
	for i, r := range rows {
		if w := ansi.StringWidth(r); w > 100 {
			t.Errorf("line %d is %d cells wide: %q", i, w, r)
		}
		for _, c := range r {
			if c > 0x2800 && c <= 0x28ff {
				braille++
			}
		}
	}
	if strings.ContainsRune(out, '\x1b') {
		t.Error("text frame has escape sequences")
	}
	if braille < 50 {
		t.Errorf("only %d braille cells: the map is not drawn\n%s", braille, out)
	}
	if !strings.Contains(out, "vehicles on") || !strings.Contains(out, "LINE") {
		t.Errorf("frame lacks header or line table:\n%s", out)
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	tests := []struct {
		name string
		bin  string
		args []string
		code int
		want []string
	}{
		{"snapshot without broker", fw, []string{"snapshot", "-b", "127.0.0.1:1", "--after", "1s"}, 1,
			[]string{"fleetwatch: snapshot: no broker reachable at 127.0.0.1:1", "--demo"}},
		{"snapshot gives up connecting", fw, []string{"snapshot", "-b", "127.0.0.1:1", "--connect-timeout", "1s"}, 1,
			[]string{"fleetwatch: snapshot: no broker reachable at 127.0.0.1:1", "connection refused"}},
		{"negative connect timeout", fw, []string{"snapshot", "--connect-timeout", "-1s"}, 2, []string{"--connect-timeout"}},
		{"bad --from", fw, []string{"snapshot", "--from", "someday"}, 2, []string{"--from", "earliest"}},
		{"unknown -X", fw, []string{"snapshot", "-X", "bogus.prop=1"}, 2, []string{"bogus.prop", "unknown property"}},
		{"malformed -X", fw, []string{"-X", "client.id"}, 2, []string{"key=value"}},
		{"unknown flag", fw, []string{"--bogus"}, 2, []string{"unknown flag"}},
		{"unknown command", fw, []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"missing network", fw, []string{"snapshot", "--network", "/nonexistent.geojson"}, 1, []string{"open network /nonexistent.geojson"}},
		{"bad topic pattern", fw, []string{"snapshot", "--vehicles-topic", "re:(["}, 2, []string{"--vehicles-topic", "pattern"}},
		{"pattern with --demo", fw, []string{"snapshot", "--demo", "--weather-topic", "re:w.*"}, 2, []string{"named topic"}},
		{"sim with a pattern", sim, []string{"--vehicles-topic", "re:v.*"}, 2, []string{"named topic"}},
		{"bad speedup", sim, []string{"--speedup", "fast"}, 2, []string{"--speedup"}},
		{"bad output", sim, []string{"--output", "csv"}, 2, []string{"--output"}},
		{"sim without broker", sim, []string{"-b", "127.0.0.1:1", "--duration", "1s"}, 1, []string{"fleetsim:", "127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, tt.bin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one:\n%s", n+1, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace on stderr: %s", errOut)
			}
		})
	}
}

// A broker that comes up while snapshot is still trying to connect is used:
// a restarting broker is waited for, within --connect-timeout.
func TestSnapshotWaitsForABrokerStartingUp(t *testing.T) {
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	addr := testutil.FreeAddr(t)
	snap := exec.Command(fw, "snapshot", "-b", addr, "--connect-timeout", "30s", "--json")
	var out, errOut bytes.Buffer
	snap.Stdout, snap.Stderr = &out, &errOut
	if err := snap.Start(); err != nil {
		t.Fatal(err)
	}
	defer snap.Process.Kill()
	// The broker starts only after fleetsim, started after snapshot, has
	// found the port closed: snapshot meets a closed port first.
	if _, _, code := run(t, sim, "-b", addr, "--duration", "1s"); code != 1 {
		t.Fatalf("fleetsim reached a broker at %s that is not started yet", addr)
	}
	broker := exec.Command(sim, "broker", "--listen", addr)
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { broker.Process.Kill(); broker.Wait() }()
	if err := snap.Wait(); err != nil {
		t.Fatalf("snapshot: %v: %s", err, errOut.String())
	}
	var s summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	if s.Stats.Consumed == nil {
		t.Fatalf("no stats in %s", out.String())
	}
}

func TestSimJSONLIsDeterministic(t *testing.T) {
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	args := []string{"--output", "jsonl", "--speedup", "max", "--duration", "5m", "--seed", "42", "--start", "2026-11-22T07:30:00Z"}
	out1, err1, code1 := run(t, sim, args...)
	out2, _, code2 := run(t, sim, args...)
	if code1 != 0 || code2 != 0 {
		t.Fatalf("exit %d/%d: %s", code1, code2, err1)
	}
	if out1 != out2 {
		t.Fatal("same seed and flags gave different output")
	}
	out3, _, _ := run(t, sim, append(args[:len(args)-3:len(args)-3], "43", "--start", "2026-11-22T07:30:00Z")...)
	if out3 == out1 {
		t.Fatal("a different seed gave the same output")
	}
	var sum struct {
		Produced map[string]int64 `json:"produced"`
		Failed   int64            `json:"failed"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(err1)), &sum); err != nil {
		t.Fatalf("summary line %q: %v", err1, err)
	}
	counts := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(out1), "\n") {
		var rec struct {
			Topic string          `json:"topic"`
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Key == "" || len(rec.Value) == 0 {
			t.Fatalf("bad line %q: %v", line, err)
		}
		counts[strings.TrimPrefix(rec.Topic, "fleet.")]++
	}
	for _, k := range []string{"vehicles", "stations", "weather"} {
		if counts[k] == 0 || counts[k] != sum.Produced[k] {
			t.Errorf("%s: %d lines, summary says %d", k, counts[k], sum.Produced[k])
		}
	}
}

// kcat, an independent client, reads back exactly what fleetsim says it produced.
func TestSimProducedEqualsWhatKcatReads(t *testing.T) {
	kcat := testutil.Require(t, "kcat")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	addr := testutil.EmbeddedBroker(t)
	_, errOut, code := run(t, sim, "-b", addr, "--speedup", "max", "--duration", "3m", "--seed", "5", "--vehicles", "12")
	if code != 0 {
		t.Fatalf("fleetsim exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var sum struct {
		Produced map[string]int64 `json:"produced"`
		Failed   int64            `json:"failed"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("summary %q: %v", errOut, err)
	}
	if sum.Failed != 0 {
		t.Fatalf("failed %d", sum.Failed)
	}
	for _, k := range []string{"vehicles", "stations", "weather"} {
		out, kerr, code := run(t, kcat, "-C", "-b", addr, "-t", "fleet."+k, "-o", "beginning", "-e", "-q", "-f", "%k\n")
		if code != 0 {
			t.Fatalf("kcat %s: exit %d: %s", k, code, kerr)
		}
		n := int64(strings.Count(out, "\n"))
		if n == 0 || n != sum.Produced[k] {
			t.Errorf("%s: kcat read %d, fleetsim produced %d", k, n, sum.Produced[k])
		}
	}
}

// Records from another producer (kcat), good and bad, are counted and the
// bad ones skipped.
func TestForeignProducerGoodAndBadRecords(t *testing.T) {
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	addr := testutil.EmbeddedBroker(t)
	produce := func(topic, data string) { testutil.KcatProduce(t, addr, topic, data) }
	produce("fleet.vehicles", strings.Join([]string{
		`bus-1|{"vehicle_id":"bus-1","line":"red","lat":41.9,"lon":-87.6,"ts":1795341600}`,
		`bus-2|{"vehicle_id":"bus-2","line":"red","lat":41.8,"lon":-87.6,"speed_kmh":20,"ts":"2026-11-22T10:00:00Z"}`,
		`bus-3|{"vehicle_id":"bus-3","line":"blue","lat":41.7,"lon":-87.7,"ts":1795341600123}`,
		`bad-1|{"vehicle_id":"bad-1","lat":95,"lon":-87.6}`,
		`bad-2|not json at all`,
		`|{"lat":41.9,"lon":-87.6}`, // no id, no key, no line
	}, "\n")+"\n")
	produce("fleet.stations", `clark-lake|{"type":"station","station_id":"clark-lake","name":"Clark/Lake","lines":["blue"],"lat":41.885737,"lon":-87.630886}`+"\n"+
		`clark-lake|{"type":"turnstile","station_id":"clark-lake","entries":4}`+"\n")
	out, errOut, code := run(t, fw, "snapshot", "-b", addr, "--until-caught-up", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Vehicles) != 3 || s.Stats.Consumed["vehicles"] != 6 || s.Stats.Rejected["vehicles"] != 3 {
		t.Fatalf("vehicles %+v stats %+v", s.Vehicles, s.Stats)
	}
	if r := s.Stats.RejectedByReason["vehicles"]; r["out_of_range"] != 1 || r["not_json"] != 1 || r["missing_id"] != 1 {
		t.Fatalf("rejected by reason %v", s.Stats.RejectedByReason)
	}
	if len(s.Stations) != 1 || s.Stations[0].Name != "Clark/Lake" || s.Stats.Consumed["stations"] != 2 {
		t.Fatalf("stations %+v", s.Stations)
	}
	if s.Stats.Consumed["weather"] != 0 || len(s.Weather) != 0 {
		t.Fatalf("weather topic never created should read as empty: %+v", s.Stats)
	}
}

// Against real Apache Kafka (make kafka-up; FLEETWATCH_TEST_KAFKA names the
// broker): fleetsim produces, and both kcat and fleetwatch read back exactly
// what it says it produced.
func TestRealKafkaRoundTrip(t *testing.T) {
	addr := testutil.RealKafka(t)
	kcat := testutil.Require(t, "kcat")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	prefix := fmt.Sprintf("test%d.", time.Now().UnixNano())
	topics := []string{"--vehicles-topic", prefix + "vehicles", "--stations-topic", prefix + "stations", "--weather-topic", prefix + "weather"}
	_, errOut, code := run(t, sim, append([]string{"-b", addr, "--speedup", "max", "--duration", "2m", "--seed", "8",
		"--vehicles", "20", "--progress", "0", "-X", "enable.idempotence=true"}, topics...)...)
	if code != 0 {
		t.Fatalf("fleetsim exit %d: %s", code, errOut)
	}
	var sum struct {
		Produced map[string]int64 `json:"produced"`
		Failed   int64            `json:"failed"`
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Failed != 0 {
		t.Fatalf("summary %q: %v", errOut, err)
	}
	out, errOut, code := run(t, fw, append([]string{"snapshot", "-b", addr, "--until-caught-up", "--json"}, topics...)...)
	if code != 0 {
		t.Fatalf("snapshot exit %d: %s", code, errOut)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Vehicles) != 20 {
		t.Errorf("%d vehicles in the state, want 20", len(s.Vehicles))
	}
	for _, k := range []string{"vehicles", "stations", "weather"} {
		n, kerr, code := run(t, kcat, "-C", "-b", addr, "-t", prefix+k, "-o", "beginning", "-e", "-q", "-f", "%k\n")
		if code != 0 {
			t.Fatalf("kcat: %s", kerr)
		}
		got := int64(strings.Count(n, "\n"))
		if got != sum.Produced[k] || s.Stats.Consumed[k] != sum.Produced[k] || s.Stats.Rejected[k] != 0 {
			t.Errorf("%s: produced %d, kcat read %d, fleetwatch consumed %d (rejected %d)",
				k, sum.Produced[k], got, s.Stats.Consumed[k], s.Stats.Rejected[k])
		}
	}
}

// SIGINT ends an endless run cleanly: everything written is counted in the
// summary, and the exit code is 0.
func TestSimStopsCleanlyOnSignal(t *testing.T) {
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	outPath := filepath.Join(t.TempDir(), "out.jsonl")
	outFile, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	var errOut bytes.Buffer
	cmd := exec.Command(sim, "--output", "jsonl", "--speedup", "60", "--progress", "0", "--seed", "4")
	cmd.Stdout, cmd.Stderr = outFile, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the simulation is under way, then interrupt it.
	testutil.Eventually(t, 10*time.Second, "first records", func() bool {
		st, err := os.Stat(outPath)
		return err == nil && st.Size() > 0
	})
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v; stderr %s", err, errOut.String())
	}
	var sum struct {
		Produced map[string]int64 `json:"produced"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(errOut.Bytes()), &sum); err != nil {
		t.Fatalf("summary %q: %v", errOut.String(), err)
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := int64(bytes.Count(out, []byte("\n")))
	if total := sum.Produced["vehicles"] + sum.Produced["stations"] + sum.Produced["weather"]; total != lines || lines == 0 {
		t.Fatalf("summary says %d, %d lines written", total, lines)
	}
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Fatal("output ends in a partial line")
	}
}

// SASL/SCRAM and TLS against real Kafka (make kafka-up opens SCRAM on 9192
// and SASL_SSL on 9193 with a test CA): the right credentials work for both
// programs, wrong ones fail with one clear line.
func TestRealKafkaSCRAMAndTLS(t *testing.T) {
	testutil.RealKafka(t)
	ca := filepath.Join(testutil.RepoRoot(), ".cache", "kafka", "run", "tls", "ca.pem")
	if _, err := os.Stat(ca); err != nil {
		t.Fatalf("test CA of make kafka-up: %v", err)
	}
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	prefix := fmt.Sprintf("sec%d.", time.Now().UnixNano())
	topics := []string{"--vehicles-topic", prefix + "vehicles", "--stations-topic", prefix + "stations", "--weather-topic", prefix + "weather"}
	scram := []string{"-X", "sasl.mechanism=SCRAM-SHA-512", "-X", "sasl.username=fleet"}

	args := append([]string{"-b", "127.0.0.1:9192", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.password=fleet-secret",
		"--speedup", "max", "--duration", "1m", "--vehicles", "12", "--progress", "0", "--seed", "3"}, scram...)
	_, errOut, code := run(t, sim, append(args, topics...)...)
	if code != 0 {
		t.Fatalf("fleetsim over SCRAM: exit %d: %s", code, errOut)
	}
	tlsArgs := append([]string{"snapshot", "-b", "127.0.0.1:9193", "-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=" + ca,
		"--until-caught-up", "--json"}, scram...)
	out, errOut, code := run(t, fw, append(append(tlsArgs, "-X", "sasl.password=fleet-secret"), topics...)...)
	if code != 0 {
		t.Fatalf("fleetwatch over SASL_SSL: exit %d: %s", code, errOut)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Vehicles) != 12 {
		t.Fatalf("%d vehicles over TLS (%v)", len(s.Vehicles), err)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong password", append(append([]string{}, tlsArgs...), "-X", "sasl.password=nope"), "sasl.password"},
		{"unknown CA", append([]string{"snapshot", "-b", "127.0.0.1:9193", "-X", "security.protocol=SASL_SSL", "-X", "sasl.password=fleet-secret",
			"--until-caught-up"}, scram...), "ssl.ca.location"},
	} {
		_, errOut, code := run(t, fw, tt.args...)
		if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q", tt.name, code, errOut)
		}
	}
}

// inProcess runs a command line in the test's process, for what needs no
// binary: help, version, usage errors, short simulations.
func inProcess(main func(args []string, stdout, stderr *bytes.Buffer) int, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := main(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func fleetwatch(args []string, stdout, stderr *bytes.Buffer) int {
	return cli.Fleetwatch(args, strings.NewReader(""), stdout, stderr)
}

func fleetsim(args []string, stdout, stderr *bytes.Buffer) int {
	return cli.Fleetsim(args, stdout, stderr)
}

func TestVersion(t *testing.T) {
	for _, tt := range []struct {
		name string
		main func([]string, *bytes.Buffer, *bytes.Buffer) int
	}{{"fleetwatch", fleetwatch}, {"fleetsim", fleetsim}} {
		for _, arg := range []string{"--version", "version"} {
			out, errOut, code := inProcess(tt.main, arg)
			if code != 0 || errOut != "" || !regexp.MustCompile(`^`+tt.name+` \S+\n$`).MatchString(out) {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", tt.name, arg, code, out, errOut)
			}
		}
	}
}

// The overview names every command and shows examples, then the default
// command's flags; `help` and -h print the same.
func TestHelpListsCommands(t *testing.T) {
	for _, tt := range []struct {
		main func([]string, *bytes.Buffer, *bytes.Buffer) int
		want []string
	}{
		{fleetwatch, []string{"Usage: fleetwatch [COMMAND]", "snapshot", "serve", "help", "version", "Examples:",
			"fleetwatch --demo", "fleetwatch -b kafka:9092 --vehicles-topic busData", "fleetwatch snapshot --json --until-caught-up",
			"fleetwatch serve --authorized-keys ~/.ssh/authorized_keys", "Flags:", "--brokers"}},
		{fleetsim, []string{"Usage: fleetsim [COMMAND]", "run", "broker", "help", "version", "Examples:", "Flags:",
			"--vehicles", "--roam", "--roam-area"}},
	} {
		help, errOut, code := inProcess(tt.main, "--help")
		if code != 0 || errOut != "" {
			t.Fatalf("--help: exit %d, stderr %q", code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(help, w) {
				t.Errorf("help lacks %q:\n%s", w, help)
			}
		}
		for _, args := range [][]string{{"-h"}, {"help"}} {
			if out, _, code := inProcess(tt.main, args...); code != 0 || out != help {
				t.Errorf("%v: exit %d, and not the same as --help:\n%s", args, code, out)
			}
		}
	}
}

// `help COMMAND` is COMMAND --help: its summary, examples and own flags.
func TestHelpCommandIsCommandHelp(t *testing.T) {
	for _, tt := range []struct {
		main     func([]string, *bytes.Buffer, *bytes.Buffer) int
		command  string
		wantFlag string
	}{
		{fleetwatch, "snapshot", "--until-caught-up"},
		{fleetwatch, "serve", "--authorized-keys"},
		{fleetsim, "run", "--roam-area"},
		{fleetsim, "broker", "--listen"},
	} {
		out, errOut, code := inProcess(tt.main, "help", tt.command)
		if code != 0 || errOut != "" {
			t.Fatalf("help %s: exit %d, stderr %q", tt.command, code, errOut)
		}
		if !strings.Contains(out, " "+tt.command+" [flags]\n") || !strings.Contains(out, "Examples:") || !strings.Contains(out, tt.wantFlag) {
			t.Errorf("help %s:\n%s", tt.command, out)
		}
		if direct, _, _ := inProcess(tt.main, tt.command, "--help"); direct != out {
			t.Errorf("help %s differs from %s --help:\n%s", tt.command, tt.command, direct)
		}
	}
}

func TestHelpUnknownCommand(t *testing.T) {
	for _, tt := range []struct {
		main func([]string, *bytes.Buffer, *bytes.Buffer) int
		args []string
		want string
	}{
		{fleetwatch, []string{"help", "nosuch"}, "fleetwatch: help: unknown command \"nosuch\"; commands: snapshot, serve"},
		{fleetwatch, []string{"nosuch"}, "commands: snapshot, serve"},
		{fleetsim, []string{"help", "nosuch"}, "fleetsim: help: unknown command \"nosuch\"; commands: run, broker"},
		{fleetsim, []string{"nosuch"}, "commands: run, broker"},
	} {
		out, errOut, code := inProcess(tt.main, tt.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

// A pure ride-hailing fleet: --vehicles 0 runs no line and no station, the
// roamers keep to their box and carry no line.
func TestSimRoamOnly(t *testing.T) {
	out, errOut, code := inProcess(fleetsim, "--roam", "20", "--roam-area", "-74.05,40.68,-73.90,40.82", "--vehicles", "0",
		"--output", "jsonl", "--speedup", "max", "--duration", "2m", "--seed", "1", "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct {
			Topic string          `json:"topic"`
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		switch rec.Topic {
		case "fleet.stations":
			t.Fatalf("station record without line service: %s", line)
		case "fleet.vehicles":
			var v map[string]any
			json.Unmarshal(rec.Value, &v)
			lon, lat := v["lon"].(float64), v["lat"].(float64)
			if _, ok := v["line"]; ok || !strings.HasPrefix(rec.Key, "drv-") || lon < -74.05 || lon > -73.90 || lat < 40.68 || lat > 40.82 {
				t.Fatalf("roamer out of place: %s", line)
			}
			ids[rec.Key] = true
		}
	}
	if len(ids) != 20 {
		t.Fatalf("%d roamers reported, want 20", len(ids))
	}
}

func TestSimRoamAreaErrors(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "lines.geojson")
	os.WriteFile(lines, []byte(`{"type":"LineString","coordinates":[[-74,40.7],[-73.9,40.8]]}`), 0o644)
	for _, tt := range []struct {
		area, want string
	}{
		{"-73.90,40.68,-74.05,40.82", "min must be below max"},
		{"-74.05,40.68,-73.90,95", "latitudes"},
		{"-74.05,40.68,-73.90", "minlon,minlat,maxlon,maxlat"},
		{"-74.05,north,-73.90,40.82", "not a number"},
		{filepath.Join(dir, "missing.geojson"), "no such file"},
		{lines, "no Polygon"},
	} {
		_, errOut, code := inProcess(fleetsim, "--roam", "5", "--roam-area", tt.area, "--output", "jsonl", "--duration", "1s")
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("--roam-area %s: exit %d, stderr %q; want exit 2 and one line with %q", tt.area, code, errOut, tt.want)
		}
	}
}
