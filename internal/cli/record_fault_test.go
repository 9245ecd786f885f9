package cli_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// The recorder's fault tests: real Kafka (FLEETWATCH_TEST_KAFKA), real
// PostgreSQL (FLEETWATCH_TEST_DB, or a private server the test starts),
// fleetsim producing live while a recorder is killed or the database is
// stopped and started. Each takes 30 to 60 s, so, like the broker fault
// tests in internal/kafka, they run only with FLEETWATCH_TEST_FAULTS=1.
// They are named TestRecordFault… so that the `-run '^TestFault'` line of
// make test, which is about the private Kafka clusters, does not run them.

// faultKafka skips the test unless the fault tests are asked for and a
// real Kafka is given, and returns its address.
func faultKafka(t *testing.T) string {
	t.Helper()
	if os.Getenv("FLEETWATCH_TEST_FAULTS") == "" {
		t.Skip("FLEETWATCH_TEST_FAULTS not set: the recorder fault tests take about a minute each")
	}
	testutil.RealDB(t) // skips without PostgreSQL, as the other history tests do
	return testutil.RealKafka(t)
}

// proc is a command running in the background; t.Cleanup kills it if the
// test ends before it does.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stderr testutil.SyncBuffer
	done   chan struct{}
	err    error
}

func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, tail(p.stderr.String(), 30))
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit by itself and returns its exit code.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%s still running after %v:\n%s", p.name, limit, tail(p.stderr.String(), 20))
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// stop asks the process to finish (SIGTERM, as an operator would) and
// returns its exit code.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		t.Fatalf("signal %s: %v", p.name, err)
	}
	return p.wait(t, 30*time.Second)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// faultTopics is a set of fresh topics on the shared Kafka, one per
// stream, deleted when the test ends, and the flags that name them.
type faultTopics struct {
	prefix                      string
	vehicles, stations, weather string
}

func newFaultTopics(t *testing.T, brokers, name string) faultTopics {
	t.Helper()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	p := fmt.Sprintf("%s-%s.", name, hex.EncodeToString(rnd[:]))
	ft := faultTopics{prefix: p, vehicles: p + "vehicles", stations: p + "stations", weather: p + "weather"}
	t.Cleanup(func() {
		// The shared broker outlives the test: leave no topics behind.
		admin, err := sarama.NewClusterAdmin(strings.Split(brokers, ","), sarama.NewConfig())
		if err != nil {
			t.Logf("delete topics: %v", err)
			return
		}
		defer admin.Close()
		for _, topic := range []string{ft.vehicles, ft.stations, ft.weather} {
			if err := admin.DeleteTopic(topic); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				t.Logf("delete topic %s: %v", topic, err)
			}
		}
	})
	return ft
}

func (ft faultTopics) flags() []string {
	return []string{"--vehicles-topic", ft.vehicles, "--stations-topic", ft.stations, "--weather-topic", ft.weather}
}

// exist tells whether all three topics are there, as fleetsim creates
// them before it produces: recorders started before would wait for the
// next look for new topics (every 5 s) instead of starting at once.
func (ft faultTopics) exist(brokers string) bool {
	client, err := sarama.NewClient(strings.Split(brokers, ","), sarama.NewConfig())
	if err != nil {
		return false
	}
	defer client.Close()
	all, err := client.Topics()
	if err != nil {
		return false
	}
	n := 0
	for _, name := range all {
		if name == ft.vehicles || name == ft.stations || name == ft.weather {
			n++
		}
	}
	return n == 3
}

// startLiveSim starts fleetsim producing for about 20 s of wall time:
// 40 vehicles at 40× (1 600 positions/s), 800 simulated seconds.
func startLiveSim(t *testing.T, brokers string, ft faultTopics) *proc {
	t.Helper()
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	args := append([]string{"-b", brokers, "--partitions", "6", "--speedup", "40", "--duration", "800s",
		"--vehicles", "40", "--seed", "17", "--start", "2026-11-22T08:00:00Z", "--progress", "0"}, ft.flags()...)
	p := startProc(t, "fleetsim", sim, args...)
	testutil.Eventually(t, 30*time.Second, "fleetsim to create its topics", func() bool {
		return p.exited() || ft.exist(brokers)
	})
	if p.exited() {
		t.Fatalf("fleetsim exited early:\n%s", p.stderr.String())
	}
	return p
}

// simProduced returns what fleetsim says it produced, once it is done.
func simProduced(t *testing.T, sim *proc) map[string]int64 {
	t.Helper()
	if code := sim.wait(t, 90*time.Second); code != 0 {
		t.Fatalf("fleetsim exit %d:\n%s", code, sim.stderr.String())
	}
	var sum struct {
		Produced map[string]int64 `json:"produced"`
		Failed   int64            `json:"failed"`
	}
	lastJSONLine(t, sim.stderr.String(), &sum)
	if sum.Failed != 0 || sum.Produced["vehicles"] < 10000 || sum.Produced["stations"] == 0 || sum.Produced["weather"] == 0 {
		t.Fatalf("fleetsim: produced %v, %d failed", sum.Produced, sum.Failed)
	}
	return sum.Produced
}

// tableCounts is what a history table holds of the test's topics: rows,
// distinct events (topic, partition, offset, idx) and distinct records
// (topic, partition, offset), the last to compare with what fleetsim
// produced.
type tableCounts struct{ rows, events, records int64 }

var streamTables = map[string]string{"vehicles": "vehicle_positions", "stations": "station_events", "weather": "weather"}

func countTables(ctx context.Context, db string) (map[string]tableCounts, error) {
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	out := map[string]tableCounts{}
	for stream, table := range streamTables {
		var c tableCounts
		err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT (topic, partition, "offset", idx)),
			count(DISTINCT (topic, partition, "offset")) FROM `+table).Scan(&c.rows, &c.events, &c.records)
		if err != nil {
			return nil, err
		}
		out[stream] = c
	}
	return out, nil
}

// storedAll tells whether the database holds as many records of each
// stream as were produced; it cannot connect while the server is down.
func storedAll(db string, produced map[string]int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := countTables(ctx, db)
	if err != nil {
		return false
	}
	for stream := range streamTables {
		if c[stream].records < produced[stream] {
			return false
		}
	}
	return true
}

// logCountsOnFailure shows what the database held when the test failed:
// a deadline that ran out says too little by itself. Registered after the
// database, it runs before the database is dropped or stopped.
func logCountsOnFailure(t *testing.T, db string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := countTables(ctx, db)
		t.Logf("the database held %+v (%v)", c, err)
	})
}

// exactlyOnce checks that every produced record is stored once: as many
// records per stream as fleetsim produced, each event once, none rejected.
func exactlyOnce(t *testing.T, db string, produced map[string]int64) {
	t.Helper()
	c, err := countTables(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for stream, table := range streamTables {
		got := c[stream]
		if got.records != produced[stream] || got.rows != got.events {
			t.Errorf("%s: %d rows, %d distinct (topic, partition, offset, idx), %d distinct records; fleetsim produced %d",
				table, got.rows, got.events, got.records, produced[stream])
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM rejected`); n != 0 {
		t.Errorf("%d records rejected", n)
	}
	t.Logf("stored exactly once: %+v", c)
}

var progressLine = regexp.MustCompile(`record: (\d+) rows/s · (\d+) partitions`)

// progressLines returns the rate and partition count of each progress line.
func progressLines(stderr string) (rates, parts []int) {
	for _, m := range progressLine.FindAllStringSubmatch(stderr, -1) {
		r, _ := strconv.Atoi(m[1])
		p, _ := strconv.Atoi(m[2])
		rates, parts = append(rates, r), append(parts, p)
	}
	return rates, parts
}

// storing tells whether a recorder holds partitions and has stored rows.
func storing(p *proc) bool {
	rates, parts := progressLines(p.stderr.String())
	wrote := false
	for _, r := range rates {
		wrote = wrote || r > 0
	}
	return wrote && len(parts) > 0 && parts[len(parts)-1] > 0
}

// Two recorders share the group while fleetsim produces; one is killed
// with SIGKILL mid-stream, so the batch it was writing is rolled back by
// the server, the records it had read but not stored are read again, and
// its partitions wait out the session timeout (10 s) before the survivor
// gets them. Every record ends up stored exactly once, a recorder run after
// finds nothing left to do, and the fleet at the end is the live fleet.
func TestRecordFaultMemberKilled(t *testing.T) {
	brokers := faultKafka(t)
	db := testutil.FreshDB(t)
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	ft := newFaultTopics(t, brokers, "recfault-kill")
	group := ft.prefix + "record"
	logCountsOnFailure(t, db)
	sim := startLiveSim(t, brokers, ft)

	rec := append([]string{"record", "--db", db, "-b", brokers, "--group", group, "--progress", "500ms"}, ft.flags()...)
	a := startProc(t, "recorder a", fw, rec...)
	b := startProc(t, "recorder b", fw, rec...)
	testutil.Eventually(t, 30*time.Second, "both recorders storing", func() bool {
		if a.exited() || b.exited() {
			t.Fatalf("a recorder exited:\n%s\n%s", a.stderr.String(), b.stderr.String())
		}
		return storing(a) && storing(b)
	})
	if sim.exited() {
		t.Fatal("fleetsim finished before the kill: the stream is too short for this machine")
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	killedAt := time.Now()
	t.Logf("recorder a killed mid-stream: %d positions stored", queryInt(t, db, `SELECT count(*) FROM vehicle_positions`))

	produced := simProduced(t, sim)
	testutil.Eventually(t, 45*time.Second, "the survivor to store every record", func() bool {
		if b.exited() {
			t.Fatalf("recorder b exited:\n%s", b.stderr.String())
		}
		return storedAll(db, produced)
	})
	t.Logf("all stored %v after the kill; fleetsim produced %v", time.Since(killedAt).Round(time.Millisecond), produced)
	if code := b.stop(t); code != 0 {
		t.Fatalf("recorder b exit %d:\n%s", code, b.stderr.String())
	}
	exactlyOnce(t, db, produced)

	// A recorder of the same group run now finds everything stored.
	_, errOut, code := run(t, fw, append([]string{"record", "--db", db, "-b", brokers, "--group", group,
		"--until-caught-up", "--progress", "0"}, ft.flags()...)...)
	if code != 0 {
		t.Fatalf("record --until-caught-up exit %d: %s", code, errOut)
	}
	var sum recordSummaryJSON
	lastJSONLine(t, errOut, &sum)
	if sum.Recorded["vehicles"]+sum.Recorded["stations"]+sum.Recorded["weather"] != 0 {
		t.Errorf("record --until-caught-up after the stream stored more: %+v", sum)
	}
	exactlyOnce(t, db, produced)
	sameFleet(t, fw, brokers, db, ft.flags(), 40)
}

type recordSummaryJSON struct {
	Recorded map[string]int64 `json:"recorded"`
	Rejected int64            `json:"rejected"`
}

// privatePG is a PostgreSQL of the test's own (scripts/pg-local.sh on a
// free port, its data in the test's temporary directory), to stop and
// start without disturbing the shared one.
type privatePG struct {
	t   *testing.T
	env []string
	url string
}

func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin := cmp.Or(os.Getenv("PG_BIN"), "/usr/lib/postgresql/15/bin")
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s/initdb missing (CI installs PostgreSQL in .ci/run)", bin)
		}
		t.Skipf("%s/initdb missing: no PostgreSQL server to start", bin)
	}
	dir := t.TempDir()
	if os.Getuid() == 0 {
		// As root the script runs the server as the postgres user, who must
		// reach the data through every parent; Go makes temporary
		// directories private to their owner.
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, port, _ := net.SplitHostPort(testutil.FreeAddr(t))
	pg := &privatePG{t: t, env: append(os.Environ(), "PG_PORT="+port, "PG_RUN="+filepath.Join(dir, "pg")),
		url: "postgres://fleet:fleet@127.0.0.1:" + port + "/fleet?sslmode=disable"}
	pg.script("up")
	t.Cleanup(func() { pg.script("down") })
	return pg
}

func (pg *privatePG) script(arg string) {
	pg.t.Helper()
	cmd := exec.Command(filepath.Join(testutil.RepoRoot(), "scripts", "pg-local.sh"), arg)
	cmd.Env = pg.env
	if out, err := cmd.CombinedOutput(); err != nil {
		pg.t.Fatalf("pg-local.sh %s: %v\n%s", arg, err, out)
	}
}

// PostgreSQL stopped and started while fleetsim produces and one recorder
// stores: the recorder says once that the store is unavailable, stores
// nothing while it is, says once that it is back, and in the end every
// record is stored exactly once.
func TestRecordFaultStoreRestarted(t *testing.T) {
	brokers := faultKafka(t)
	pg := startPrivatePG(t)
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	ft := newFaultTopics(t, brokers, "recfault-pg")
	logCountsOnFailure(t, pg.url)
	sim := startLiveSim(t, brokers, ft)

	r := startProc(t, "recorder", fw, append([]string{"record", "--db", pg.url, "-b", brokers, "--group", ft.prefix + "record",
		"--progress", "300ms"}, ft.flags()...)...)
	testutil.Eventually(t, 30*time.Second, "the recorder storing", func() bool {
		if r.exited() {
			t.Fatalf("the recorder exited:\n%s", r.stderr.String())
		}
		return storing(r)
	})
	pg.script("down")
	if sim.exited() {
		t.Fatal("fleetsim finished before PostgreSQL stopped: the stream is too short for this machine")
	}
	testutil.Eventually(t, 15*time.Second, `"store unavailable"`, func() bool {
		return strings.Contains(r.stderr.String(), "record: store unavailable: ")
	})
	// Wait for two progress lines after the one that may still count the
	// last batch before the failure, and check that they count nothing.
	var downAt int
	testutil.Eventually(t, 15*time.Second, "progress while the store is down", func() bool {
		s := r.stderr.String()
		downAt = strings.Index(s, "record: store unavailable")
		rates, _ := progressLines(s[downAt:])
		return len(rates) >= 3
	})
	if rates, _ := progressLines(r.stderr.String()[downAt:]); rates[1] != 0 || rates[2] != 0 {
		t.Errorf("rows stored while PostgreSQL was down: rates %v", rates)
	}
	if sim.exited() {
		t.Fatal("fleetsim finished while PostgreSQL was down: the stream is too short for this machine")
	}
	stoppedFor := time.Now()
	pg.script("up")
	testutil.Eventually(t, 40*time.Second, `"store back"`, func() bool {
		return strings.Contains(r.stderr.String(), "record: store back")
	})
	t.Logf("PostgreSQL started again; the recorder stored again %v later", time.Since(stoppedFor).Round(time.Millisecond))

	produced := simProduced(t, sim)
	testutil.Eventually(t, 45*time.Second, "the recorder to store every record", func() bool {
		if r.exited() {
			t.Fatalf("the recorder exited:\n%s", r.stderr.String())
		}
		return storedAll(pg.url, produced)
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("recorder exit %d:\n%s", code, r.stderr.String())
	}
	exactlyOnce(t, pg.url, produced)
	errOut := r.stderr.String()
	if down, back := strings.Count(errOut, "record: store unavailable"), strings.Count(errOut, "record: store back"); down != 1 || back != 1 {
		t.Errorf(`"store unavailable" said %d times, "store back" %d times; want once each:\n%s`, down, back,
			strings.Join(slices.DeleteFunc(strings.Split(errOut, "\n"), progressLine.MatchString), "\n"))
	}
	t.Logf("the recorder said:\n%s", strings.Join(slices.DeleteFunc(strings.Split(errOut, "\n"), progressLine.MatchString), "\n"))
	var sum recordSummaryJSON
	lastJSONLine(t, errOut, &sum)
	t.Logf("recorder summary %+v; fleetsim produced %v", sum, produced)
}
