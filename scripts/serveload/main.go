// Command serveload measures `fleetwatch serve` with many SSH viewers (issue
// 17). For every measurement (each build, viewer count and run) it starts a
// fresh fleet, an embedded broker (`fleetsim broker`) and `fleetsim
// --vehicles 10000` in real time, and a fresh `fleetwatch serve
// --insecure-no-auth` on loopback; opens N SSH sessions (pty xterm-256color
// 120×40, a shell), each reading and discarding its output; and reports, over
// a fixed window once every session is up, the serve process's CPU
// (utime+stime from /proc/PID/stat, in cores, and per frame delivered), its
// RSS (VmRSS at the end, VmHWM), the bytes and frames (Bubble Tea flushes)
// each viewer got a second, and whether ingest keeps up: the status line's
// consumed count (its rate against fleetsim's progress lines) and the STREAM
// panel's vehicles lag, read off one viewer's screen every second. It also
// prints the broker's, fleetsim's and its own CPU and how busy the whole
// machine was, since the figures mean little on a loaded one.
//
// With -slow K, an extra measurement at the largest viewer count adds K
// viewers that stop reading their TCP connection (a 16 KiB receive buffer)
// for -slow-pause from 5 s into the window: the report gives the other
// viewers' frame rate and the lag during the stall against outside it, and
// the server's send queue to the stalled viewers each second (a queue that
// stops growing means the server's writes to them are blocked; -slow-size
// 300x100 makes that happen within seconds).
//
// Run from the repository root (scripts/bench.sh ONLY=serve_viewers does):
//
//	go run ./scripts/serveload -build main=bin/fleetwatch -build scale=../scale/bin/fleetwatch \
//	    -viewers 1,10,100 -runs 3 -window 30s -slow 5
//
// Nothing here asserts: it prints figures (BENCHMARKS.md, "serve: many
// viewers").
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

const (
	cols, rows = 120, 40
	clkTck     = 100 // USER_HZ on Linux
)

// simLogs are the fleetsim processes' stderr: their progress lines give
// the offered rate.
var simLogs []string

// offered sums, over the fleetsim processes, the mean of their progress
// lines (vehicles + stations + weather per second) written after byte
// offsets from.
func offered(from []int64) float64 {
	var total float64
	for i, path := range simLogs {
		b, err := os.ReadFile(path)
		if err != nil || int64(len(b)) < from[i] {
			continue
		}
		var sum float64
		n := 0
		for _, l := range strings.Split(string(b[from[i]:]), "\n") {
			m := progressRe.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			for _, x := range m[1:] {
				f, _ := strconv.ParseFloat(x, 64)
				sum += f
			}
			n++
		}
		if n > 0 {
			total += sum / float64(n)
		}
	}
	return total
}

var progressRe = regexp.MustCompile(`vehicles (\d+)/s +stations (\d+)/s +weather (\d+)/s`)

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

type buildFlag []string

func (b *buildFlag) String() string     { return strings.Join(*b, ",") }
func (b *buildFlag) Set(s string) error { *b = append(*b, s); return nil }

type build struct{ name, path string }

var (
	builds     buildFlag
	fleetsim   = flag.String("fleetsim", "bin/fleetsim", "the fleetsim binary (broker and producer)")
	freshFleet = flag.Bool("fresh-fleet", true, "a new broker and fleet for every measurement, so that each window sees a fleet of the same age (under a minute); false: one fleet for all")
	fleetAge   = flag.Duration("fleet-age", 0, "with -fresh-fleet=false, how long the fleet runs before the first measurement")
	shards     = flag.Int("shards", 1, "fleetsim processes, each --shard i/N of the fleet, started 1/N s apart (reports spread over the second, as a real fleet's are)")
	vehicles   = flag.Int("vehicles", 10000, "vehicles fleetsim simulates (real time, 1 report a second each), and that the screen must show before viewers come")
	viewersF   = flag.String("viewers", "1,10,100", "viewer counts, comma separated")
	runs       = flag.Int("runs", 1, "repetitions of every build and viewer count (builds interleaved)")
	window     = flag.Duration("window", 30*time.Second, "measurement window once every session is up")
	warmup     = flag.Duration("warmup", 5*time.Second, "wait after the last session is up, before the window")
	slow       = flag.Int("slow", 0, "extra slow viewers in an additional run at the largest viewer count")
	slowSize   = flag.String("slow-size", "120x40", "terminal size of the slow viewers, COLSxROWS (a larger one fills the server's socket sooner)")
	slowPause  = flag.Duration("slow-pause", 15*time.Second, "how long slow viewers stop reading, from 5 s into the window")
	network    = flag.String("network", "assets/network.geojson", "network file for serve (\"\" for none: the network is learned from the data)")
	profDir    = flag.String("cpuprofile", "", "directory: serve writes FLEETWATCH_CPUPROFILE=DIR/serve-BUILD-N-RUN.prof")
	showFrame  = flag.Bool("show-screen", false, "print the observer's screen at the end of each window")
	simArgs    = flag.String("sim-args", "", "extra arguments for fleetsim, space separated (\"--vehicles 0 --roam 10000\": free-roaming drivers instead of line vehicles)")
	serveArgs  = flag.String("serve-args", "", "extra arguments for fleetwatch serve, space separated")
	obsKeys    = flag.String("observer-keys", "+++", "keys the observing viewer presses once the fleet shows (zoom in, so that vehicles are seen to move)")
	rawOut     = flag.String("raw", "", "append the observer's raw output to this file (debugging)")
)

func main() {
	flag.Var(&builds, "build", "name=path of a fleetwatch binary; repeatable (default main=bin/fleetwatch)")
	flag.Parse()
	if len(builds) == 0 {
		builds = buildFlag{"main=bin/fleetwatch"}
	}
	var bs []build
	for _, b := range builds {
		name, path, ok := strings.Cut(b, "=")
		if !ok {
			name, path = filepath.Base(filepath.Dir(filepath.Dir(b))), b
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			fatal(err)
		}
		bs = append(bs, build{name, abs})
	}
	if _, err := fmt.Sscanf(*slowSize, "%dx%d", &slowCols, &slowRows); err != nil {
		fatal(fmt.Errorf("-slow-size %q: want COLSxROWS", *slowSize))
	}
	var counts []int
	for _, s := range strings.Split(*viewersF, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-viewers: bad count %q", s))
		}
		counts = append(counts, n)
	}
	dir, err := os.MkdirTemp("", "serveload")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	// Interrupted, the processes it started end with it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		childMu.Lock()
		for c := range children {
			c.Process.Kill()
		}
		os.RemoveAll(dir)
		os.Exit(1)
	}()

	fmt.Printf("fleet: %d vehicles %s in real time (%d fleetsim process(es)) into a fleetsim broker, %s; window %s after %s warm-up; %d CPUs\n",
		*vehicles, *simArgs, *shards, map[bool]string{true: "a fresh fleet for every measurement", false: "one fleet for all, aged " + fleetAge.String() + " first"}[*freshFleet],
		*window, *warmup, numCPU())
	var shared *fleet
	if !*freshFleet {
		shared = startFleet(dir)
		defer shared.stop()
		time.Sleep(*fleetAge)
	}
	for _, b := range bs {
		fmt.Printf("build %s: %s (%s)\n", b.name, b.path, version(b.path))
	}
	type key struct {
		build string
		n     int
		slow  int
	}
	results := map[key][]result{}
	var order []key
	for r := 1; r <= *runs; r++ {
		var plan []key
		for _, n := range counts {
			for _, b := range bs {
				plan = append(plan, key{b.name, n, 0})
			}
		}
		if *slow > 0 {
			for _, b := range bs {
				plan = append(plan, key{b.name, counts[len(counts)-1], *slow})
			}
		}
		if r%2 == 0 && len(bs) > 1 { // alternate which build goes first
			for i := 0; i+1 < len(plan); i += len(bs) {
				plan[i], plan[i+1] = plan[i+1], plan[i]
			}
		}
		for _, k := range plan {
			var b build
			for _, x := range bs {
				if x.name == k.build {
					b = x
				}
			}
			f := shared
			if f == nil {
				f = startFleet(dir)
			}
			res, err := measure(dir, b, f, k.n, k.slow, r)
			if shared == nil {
				f.stop()
			}
			if err != nil {
				fmt.Printf("run %d %s N=%d slow=%d: %v\n", r, k.build, k.n, k.slow, err)
				continue
			}
			res.print(r)
			if _, ok := results[k]; !ok {
				order = append(order, k)
			}
			results[k] = append(results[k], res)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].slow != order[j].slow {
			return order[i].slow < order[j].slow
		}
		return order[i].n < order[j].n
	})
	fmt.Printf("\nsummary, range over %d run(s): serve process CPU (cores) and per frame delivered (ingest included), RSS at the end / peak (VmHWM), per viewer frames/s and kB/s, "+
		"events/s serve consumed (status line), the vehicles lag (STREAM panel, max of 1 s samples), cores busy on the whole machine, load average (1 min) at the end\n", *runs)
	fmt.Printf("%-8s %-12s %-13s %-11s %-11s %-11s %-13s %-11s %-15s %-13s %-11s %s\n", "build", "viewers", "cpu cores", "ms/frame", "rss MB", "hwm MB", "frames/s/v", "kB/s/v", "consumed ev/s", "lag max", "box busy", "load")
	for _, k := range order {
		rs := results[k]
		v := fmt.Sprint(k.n)
		if k.slow > 0 {
			v += fmt.Sprintf("+%d slow", k.slow)
		}
		fmt.Printf("%-8s %-12s %-13s %-11s %-11s %-11s %-13s %-11s %-15s %-13s %-11s %s\n", k.build, v,
			span(rs, "%.2f", func(r result) float64 { return r.cores }),
			span(rs, "%.2f", func(r result) float64 { return r.msPerFrame }),
			span(rs, "%.0f", func(r result) float64 { return r.rssMB }),
			span(rs, "%.0f", func(r result) float64 { return r.hwmMB }),
			span(rs, "%.1f", func(r result) float64 { return r.fps }),
			span(rs, "%.1f", func(r result) float64 { return r.kBps }),
			span(rs, "%.0f", func(r result) float64 { return r.consumed }),
			span(rs, "%.0f", func(r result) float64 { return float64(r.lagMax) }),
			span(rs, "%.2f", func(r result) float64 { return r.boxBusy }),
			span(rs, "%.1f", func(r result) float64 { return r.load1 }))
	}
}

func span(rs []result, f string, get func(result) float64) string {
	lo, hi := get(rs[0]), get(rs[0])
	for _, r := range rs[1:] {
		lo, hi = min(lo, get(r)), max(hi, get(r))
	}
	a, b := fmt.Sprintf(f, lo), fmt.Sprintf(f, hi)
	if a == b {
		return a
	}
	return a + "–" + b
}

type result struct {
	build          string
	n, slow        int
	connect        time.Duration // from the first dial to the last shell
	cores          float64       // serve's CPU over the window
	brokerCores    float64
	simCores       float64
	selfCores      float64 // this harness
	rssMB, hwmMB   float64
	fps, kBps      float64 // per normal viewer, mean over them
	msPerFrame     float64 // serve's CPU per frame delivered to a normal viewer, ingest included
	fpsMin, fpsMax float64 // slowest and fastest normal viewer
	shown          int     // vehicles on the observer's screen at the end
	consumed       float64 // events/s consumed, from the status line's count over the window
	offered        float64 // events/s fleetsim produced, from its progress lines in the window
	lagMed, lagMax int64
	samples        int // screen samples with a STREAM line
	mapMoved       int // of the 1 s screen samples, how many had map rows changed since the one before
	load0, load1   float64
	boxBusy        float64 // cores busy on the whole machine over the window (/proc/stat), every process
	boxSteal       float64 // cores stolen by the hypervisor over the window
	slowNote       string
	screen         string
}

func (r result) print(run int) {
	v := fmt.Sprint(r.n)
	if r.slow > 0 {
		v += fmt.Sprintf("+%d slow", r.slow)
	}
	fmt.Printf("run %d %-6s viewers %-10s serve CPU %.2f cores (%.2f ms a frame), RSS %.0f MB (peak %.0f); per viewer %.1f frames/s (%.1f–%.1f), %.1f kB/s; "+
		"screen: %d vehicles, consumed %.0f ev/s (offered %.0f), lag median %d max %d (%d samples), map moved in %d/%d; connect %.1fs; "+
		"broker %.2f, fleetsim %.2f, harness %.2f cores; machine busy %.2f of %d cores, %.2f stolen; load %.1f→%.1f\n",
		run, r.build, v, r.cores, r.msPerFrame, r.rssMB, r.hwmMB, r.fps, r.fpsMin, r.fpsMax, r.kBps,
		r.shown, r.consumed, r.offered, r.lagMed, r.lagMax, r.samples, r.mapMoved, max(r.samples-1, 0), r.connect.Seconds(),
		r.brokerCores, r.simCores, r.selfCores, r.boxBusy, numCPU(), r.boxSteal, r.load0, r.load1)
	if r.slowNote != "" {
		fmt.Printf("      %s\n", r.slowNote)
	}
	if r.screen != "" {
		fmt.Println(r.screen)
	}
}

// measure runs one serve process with n viewers (and slow ones) and
// measures it.
// fleet is an embedded broker in its own process and fleetsim producing to
// it in real time.
type fleet struct {
	addr   string
	broker *exec.Cmd
	sims   []*exec.Cmd
}

func startFleet(dir string) *fleet {
	f := &fleet{addr: freeAddr()}
	f.broker = start(dir, "broker", *fleetsim, "broker", "--listen", f.addr)
	waitPort(f.addr, 20*time.Second)
	simLogs = nil
	for i := range *shards {
		args := []string{"-b", f.addr, "--vehicles", strconv.Itoa(*vehicles), "--seed", "1", "--progress", "5s"}
		if *shards > 1 {
			// Each a disjoint part of the same fleet, started a fraction of
			// the tick after the one before: the reports arrive spread
			// over the second instead of all at each tick.
			args = append(args, "--shard", fmt.Sprintf("%d/%d", i, *shards))
			if i > 0 {
				time.Sleep(time.Second / time.Duration(*shards))
			}
		}
		name := fmt.Sprintf("fleetsim%d", i)
		simLogs = append(simLogs, filepath.Join(dir, name+".err"))
		f.sims = append(f.sims, start(dir, name, *fleetsim, append(args, strings.Fields(*simArgs)...)...))
	}
	time.Sleep(3 * time.Second) // topics made, the first tick produced
	return f
}

func (f *fleet) stop() {
	for _, c := range f.sims {
		stop(c)
	}
	stop(f.broker)
}

func measure(dir string, b build, f *fleet, n, nslow, run int) (res result, err error) {
	brokerAddr, broker, sims := f.addr, f.broker, f.sims
	res = result{build: b.name, n: n, slow: nslow}
	addr := freeAddr()
	args := []string{"serve", "-b", brokerAddr, "--insecure-no-auth", "--listen", addr,
		"--host-key", filepath.Join(dir, "host_ed25519"), "--max-sessions", strconv.Itoa(n + nslow + 8),
		"--idle-timeout", "0", "--log", filepath.Join(dir, fmt.Sprintf("serve-%s-%d.log", b.name, n))}
	if *network != "" {
		args = append(args, "--network", *network)
	}
	args = append(args, strings.Fields(*serveArgs)...)
	cmd := exec.Command(b.path, args...)
	cmd.Env = os.Environ()
	if *profDir != "" {
		p, _ := filepath.Abs(filepath.Join(*profDir, fmt.Sprintf("serve-%s-%d-%d.prof", b.name, n+nslow, run)))
		cmd.Env = append(cmd.Env, "FLEETWATCH_CPUPROFILE="+p)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return res, err
	}
	track(cmd, true)
	defer func() {
		stopWithin(cmd, 15*time.Second)
		if err != nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w; serve said: %s", err, strings.TrimSpace(stderr.String()))
		}
	}()
	if !waitPort(addr, 20*time.Second) {
		return res, errors.New("serve did not listen")
	}
	pid := cmd.Process.Pid

	// The observer first: the fleet has to be on its screen before the
	// others come, so that every viewer draws the full fleet.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs, err := dial(ctx, addr, true, false)
	if err != nil {
		return res, err
	}
	viewers := []*viewer{obs}
	defer func() {
		for _, v := range viewers {
			v.close()
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if s := obs.scr.parse(); s.vehicles >= *vehicles*99/100 {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the fleet did not show on the screen; it read:\n%s", obs.scr.text())
		}
		time.Sleep(200 * time.Millisecond)
	}
	io.WriteString(obs.stdin, *obsKeys)
	t1 := time.Now()
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := 1; i < n+nslow; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(slow bool) {
			defer func() { <-sem; wg.Done() }()
			v, err := dial(ctx, addr, false, slow)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			viewers = append(viewers, v)
		}(i >= n)
	}
	wg.Wait()
	if firstErr != nil {
		return res, fmt.Errorf("viewer: %w", firstErr)
	}
	res.connect = time.Since(t1)
	time.Sleep(*warmup)

	// The window.
	type counts struct{ bytes, frames int64 }
	snap := func() []counts {
		c := make([]counts, len(viewers))
		for i, v := range viewers {
			c[i] = counts{v.bytes.Load(), v.frames.Load()}
		}
		return c
	}
	simTicks := func() (t int64) {
		for _, c := range sims {
			t += cpuTicks(c.Process.Pid)
		}
		return t
	}
	cpu0, self0, br0, sim0 := cpuTicks(pid), cpuTicks(os.Getpid()), cpuTicks(broker.Process.Pid), simTicks()
	res.load0 = loadavg()
	busy0, steal0, all0 := boxTicks()
	var simLogFrom []int64
	for _, l := range simLogs {
		simLogFrom = append(simLogFrom, fileSize(l))
	}
	c0 := snap()
	start := time.Now()
	pauseFrom, pauseTo := start.Add(5*time.Second), start.Add(5*time.Second+*slowPause)
	var pausedFrames [2]int64 // normal viewers' frames inside the pause, and outside it
	var pausedLag, outLag []int64
	var txq []int64
	var txqMax []int64 // per second of the pause, the largest send queue to a stalled viewer
	var stream []streamSample
	var prevMap string
	paused := false
	var cPause0 []counts
	for tick := time.NewTicker(time.Second); time.Since(start) < *window; {
		<-tick.C
		now := time.Now()
		if nslow > 0 && !paused && now.After(pauseFrom) && now.Before(pauseTo) {
			paused = true
			cPause0 = snap()
			for _, v := range viewers {
				if v.slow {
					v.gate.pause()
				}
			}
		}
		if nslow > 0 && paused && now.After(pauseTo) {
			paused = false
			c := snap()
			for i, v := range viewers {
				if !v.slow {
					pausedFrames[0] += c[i].frames - cPause0[i].frames
				}
			}
			txq = sendQueues(addr, viewers)
			for _, v := range viewers {
				if v.slow {
					v.gate.resume()
				}
			}
		}
		if paused {
			var m int64
			for _, q := range sendQueues(addr, viewers) {
				m = max(m, q)
			}
			txqMax = append(txqMax, m)
		}
		s := obs.scr.parse()
		if s.ok {
			stream = append(stream, s)
			if paused {
				pausedLag = append(pausedLag, s.lag)
			} else {
				outLag = append(outLag, s.lag)
			}
		}
		if prevMap != "" && s.mapText != prevMap {
			res.mapMoved++
		}
		prevMap = s.mapText
	}
	el := time.Since(start).Seconds()
	c1 := snap()
	res.cores = float64(cpuTicks(pid)-cpu0) / clkTck / el
	res.selfCores = float64(cpuTicks(os.Getpid())-self0) / clkTck / el
	res.brokerCores = float64(cpuTicks(broker.Process.Pid)-br0) / clkTck / el
	res.simCores = float64(simTicks()-sim0) / clkTck / el
	res.load1 = loadavg()
	busy1, steal1, all1 := boxTicks()
	if all1 > all0 {
		res.boxBusy = float64(numCPU()) * float64(busy1-busy0) / float64(all1-all0)
		res.boxSteal = float64(numCPU()) * float64(steal1-steal0) / float64(all1-all0)
	}
	res.offered = offered(simLogFrom)
	rss, hwm := memKB(pid)
	res.rssMB, res.hwmMB = float64(rss)/1024, float64(hwm)/1024
	var nb, nf int64
	normal := 0
	res.fpsMin = 1e9
	for i, v := range viewers {
		if v.slow {
			continue
		}
		normal++
		db, df := c1[i].bytes-c0[i].bytes, c1[i].frames-c0[i].frames
		nb += db
		nf += df
		f := float64(df) / el
		res.fpsMin, res.fpsMax = min(res.fpsMin, f), max(res.fpsMax, f)
	}
	res.fps = float64(nf) / el / float64(normal)
	res.kBps = float64(nb) / el / float64(normal) / 1000
	if nf > 0 {
		res.msPerFrame = res.cores * 1000 / (float64(nf) / el)
	}
	final := obs.scr.parse()
	res.shown = final.vehicles
	res.samples = len(stream)
	if len(stream) > 0 {
		lags := make([]int64, len(stream))
		for i, s := range stream {
			lags[i] = s.lag
		}
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		res.lagMed, res.lagMax = lags[len(lags)/2], lags[len(lags)-1]
		var first, last *streamSample
		for i := range stream {
			if stream[i].events >= 0 {
				if first == nil {
					first = &stream[i]
				}
				last = &stream[i]
			}
		}
		if first != nil && last != first {
			res.consumed = float64(last.events-first.events) / last.at.Sub(first.at).Seconds()
		}
	}
	if nslow > 0 {
		pausedFrames[1] = nf - pausedFrames[0]
		var sb, sf, sbp int64
		for i, v := range viewers {
			if v.slow {
				sb += c1[i].bytes - c0[i].bytes
				sf += c1[i].frames - c0[i].frames
				if cPause0 != nil {
					sbp += c1[i].bytes - cPause0[i].bytes
				}
			}
		}
		inPause := slowPause.Seconds()
		res.slowNote = fmt.Sprintf("slow viewers: %d (%dx%d) stalled for %s (TCP receive buffer 16 KiB, reads stopped): normal viewers %.1f frames/s each during the pause, %.1f outside it; "+
			"observer's lag during the pause max %d, outside max %d; server send queue to each stalled viewer at the end of the pause: %s KiB "+
			"(the largest, each second of the pause: %s KiB); "+
			"the slow viewers got %.1f frames/s, %.1f kB/s each over the window",
			nslow, slowCols, slowRows, *slowPause, float64(pausedFrames[0])/inPause/float64(normal), float64(pausedFrames[1])/(el-inPause)/float64(normal),
			maxOf(pausedLag), maxOf(outLag), kib(txq), kib(txqMax),
			float64(sf)/el/float64(nslow), float64(sb)/el/float64(nslow)/1000)
	}
	if *showFrame {
		res.screen = obs.scr.text()
	}
	return res, nil
}

func maxOf(xs []int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// viewer is one SSH session reading its screen.
type viewer struct {
	client *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser
	bytes  atomic.Int64
	frames atomic.Int64 // Bubble Tea flushes: each starts with ESC [ H on the alternate screen
	slow   bool
	gate   *gate
	scr    *screen // the observer only
	raw    io.Writer
	conn   net.Conn
}

// slowCols and slowRows are the slow viewers' terminal size (-slow-size).
var slowCols, slowRows = cols, rows

func dial(ctx context.Context, addr string, observe, slow bool) (*viewer, error) {
	v := &viewer{slow: slow}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	v.conn = conn
	if slow {
		// A small receive buffer (no autotuning), so that a stalled reader
		// fills the server's socket within seconds, as a slow link would.
		conn.(*net.TCPConn).SetReadBuffer(16 << 10)
		v.gate = newGate()
		conn = gatedConn{conn, v.gate}
	}
	config := &gossh.ClientConfig{User: "bench", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	cc, chans, reqs, err := gossh.NewClientConn(conn, addr, config)
	if err != nil {
		conn.Close()
		return nil, err
	}
	v.client = gossh.NewClient(cc, chans, reqs)
	if v.sess, err = v.client.NewSession(); err != nil {
		v.client.Close()
		return nil, err
	}
	h, w := rows, cols
	if slow {
		h, w = slowRows, slowCols
	}
	if err := v.sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		v.client.Close()
		return nil, err
	}
	out, _ := v.sess.StdoutPipe()
	v.stdin, _ = v.sess.StdinPipe() // kept open: no EOF to the program
	if err := v.sess.Shell(); err != nil {
		v.client.Close()
		return nil, err
	}
	if observe {
		v.scr = newScreen()
		if *rawOut != "" {
			if f, err := os.OpenFile(*rawOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
				v.raw = f
			}
		}
	}
	go v.read(out)
	return v, nil
}

func (v *viewer) read(r io.Reader) {
	buf := make([]byte, 64<<10)
	state := 0       // progress through ESC [ H
	var early []byte // the output before the terminal queries are answered
	answered := false
	for {
		k, err := r.Read(buf)
		if k > 0 {
			p := buf[:k]
			if !answered {
				// A server that asks the terminal its background colour (OSC
				// 11) and its attributes (DA1) before the first frame waits
				// for the answers: answer as a dark xterm would. fleetwatch
				// no longer asks; the first frames show that.
				early = append(early, p...)
				if i := bytes.Index(early, []byte("\x1b[c")); i >= 0 {
					if bytes.Contains(early[:i], []byte("\x1b]11;?")) {
						io.WriteString(v.stdin, "\x1b]11;rgb:0000/0000/0000\x1b\\")
					}
					io.WriteString(v.stdin, "\x1b[?62;22c")
					answered, early = true, nil
				} else if len(early) > 4096 {
					answered, early = true, nil
				}
			}
			v.bytes.Add(int64(k))
			var f int64
			for _, c := range p {
				switch {
				case c == 0x1b:
					state = 1
				case state == 1 && c == '[':
					state = 2
				case state == 2 && c == 'H':
					f++
					state = 0
				default:
					state = 0
				}
			}
			v.frames.Add(f)
			if v.scr != nil {
				v.scr.write(p)
				if v.raw != nil {
					v.raw.Write(p)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (v *viewer) close() {
	if v.gate != nil {
		v.gate.resume()
	}
	v.client.Close()
}

// gate blocks a connection's reads while paused.
type gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
}

func newGate() *gate   { g := &gate{}; g.cond = sync.NewCond(&g.mu); return g }
func (g *gate) pause() { g.mu.Lock(); g.paused = true; g.mu.Unlock() }
func (g *gate) resume() {
	g.mu.Lock()
	g.paused = false
	g.mu.Unlock()
	g.cond.Broadcast()
}
func (g *gate) wait() {
	g.mu.Lock()
	for g.paused {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

type gatedConn struct {
	net.Conn
	g *gate
}

func (c gatedConn) Read(p []byte) (int, error) {
	c.g.wait()
	return c.Conn.Read(p)
}

// sendQueues reads the server side's unsent bytes (tx_queue) to each slow
// viewer from /proc/net/tcp.
func sendQueues(serverAddr string, vs []*viewer) []int64 {
	_, sport, _ := net.SplitHostPort(serverAddr)
	sp, _ := strconv.Atoi(sport)
	want := map[int]bool{}
	for _, v := range vs {
		if v.slow {
			want[v.conn.LocalAddr().(*net.TCPAddr).Port] = true
		}
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 || !strings.Contains(fs[1], ":") {
			continue
		}
		lp, _ := strconv.ParseInt(fs[1][strings.IndexByte(fs[1], ':')+1:], 16, 32)
		rp, _ := strconv.ParseInt(fs[2][strings.IndexByte(fs[2], ':')+1:], 16, 32)
		if int(lp) != sp || !want[int(rp)] {
			continue
		}
		tx, _ := strconv.ParseInt(fs[4][:strings.IndexByte(fs[4], ':')], 16, 64)
		out = append(out, tx)
	}
	return out
}

func kib(xs []int64) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d", x>>10)
	}
	return b.String()
}

// screen is the observer's screen, rebuilt from Bubble Tea's output on the
// alternate screen: ESC [ H homes, CR LF ends a written line, a bare LF skips
// an unchanged one, ESC [ row;col H places the cursor.
type screen struct {
	mu    sync.Mutex
	lines [rows][]byte
	row   int
	fresh bool // the cursor is at a line's start: the next text replaces the line
	esc   []byte
	inEsc bool
}

func newScreen() *screen { return &screen{fresh: true} }

func (s *screen) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p {
		if s.inEsc {
			s.esc = append(s.esc, c)
			if s.escDone() {
				s.apply()
				s.inEsc, s.esc = false, s.esc[:0]
			}
			continue
		}
		switch c {
		case 0x1b:
			s.inEsc, s.esc = true, append(s.esc[:0], c)
		case '\r':
			s.fresh = true
		case '\n':
			s.row = min(s.row+1, rows-1)
			s.fresh = true
		default:
			if c < 0x20 {
				continue
			}
			if s.fresh {
				s.lines[s.row] = s.lines[s.row][:0]
				s.fresh = false
			}
			s.lines[s.row] = append(s.lines[s.row], c)
		}
	}
}

func (s *screen) escDone() bool {
	e := s.esc
	if len(e) < 2 {
		return false
	}
	switch e[1] {
	case '[':
		last := e[len(e)-1]
		return len(e) > 2 && last >= 0x40 && last <= 0x7e
	case ']', 'P', '_': // OSC, DCS, APC: until BEL or ST
		return e[len(e)-1] == 0x07 || (len(e) > 2 && e[len(e)-2] == 0x1b && e[len(e)-1] == '\\')
	default:
		return true
	}
}

func (s *screen) apply() {
	e := s.esc
	if len(e) < 3 || e[1] != '[' || e[len(e)-1] != 'H' {
		return
	}
	r := 1
	if params := string(e[2 : len(e)-1]); params != "" {
		rs, _, _ := strings.Cut(params, ";")
		if n, err := strconv.Atoi(rs); err == nil && n > 0 {
			r = n
		}
	}
	s.row, s.fresh = min(r-1, rows-1), true
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, l := range s.lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.String()
}

type streamSample struct {
	ok       bool // the STREAM panel was read
	vehicles int
	lag      int64 // the STREAM panel's vehicles lag
	events   int64 // the status line's events consumed, -1 unread
	at       time.Time
	mapText  string
}

var (
	vehiclesRe = regexp.MustCompile(`(\d[\d ,]*) vehicles`)
	streamRe   = regexp.MustCompile(`vehicles +\S* +(\d+) +(\d+)`)
	eventsRe   = regexp.MustCompile(`(\d+) events`)
)

// parse reads the header's vehicle count, the STREAM panel's vehicles lag,
// the status line's count of events consumed, and the map (the left 76
// columns of the rows between the header and the status line).
func (s *screen) parse() streamSample {
	out := streamSample{events: -1, at: time.Now()}
	lines := strings.Split(s.text(), "\n")
	for i, l := range lines {
		if m := streamRe.FindStringSubmatch(l); m != nil && !out.ok {
			out.ok = true
			out.lag, _ = strconv.ParseInt(m[2], 10, 64)
		}
		if m := eventsRe.FindStringSubmatch(l); m != nil && i >= rows-3 {
			out.events, _ = strconv.ParseInt(m[1], 10, 64)
		}
		if m := vehiclesRe.FindStringSubmatch(l); m != nil && out.vehicles == 0 && i < 3 {
			out.vehicles, _ = strconv.Atoi(strings.NewReplacer(" ", "", ",", "").Replace(m[1]))
		}
	}
	var mp strings.Builder
	for _, l := range lines[min(2, len(lines)):max(len(lines)-3, 2)] {
		r := []rune(l)
		mp.WriteString(string(r[:min(76, len(r))]))
	}
	out.mapText = mp.String()
	return out
}

func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fs := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(fs[11], 10, 64)
	st, _ := strconv.ParseInt(fs[12], 10, 64)
	return u + st
}

func memKB(pid int) (rss, hwm int64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		fs := strings.Fields(l)
		if len(fs) < 2 {
			continue
		}
		switch fs[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(fs[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(fs[1], 10, 64)
		}
	}
	return rss, hwm
}

// boxTicks returns the machine's busy, stolen (by the hypervisor) and
// total CPU ticks (/proc/stat).
func boxTicks() (busy, steal, all int64) {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	fs := strings.Fields(line)
	for i, f := range fs[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		if i >= 8 { // guest time is counted in user already
			break
		}
		all += n
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			steal += n
		default:
			busy += n
		}
	}
	return busy, steal, all
}

func loadavg() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func version(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitPort(addr string, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
	}
	return false
}

var (
	childMu  sync.Mutex
	children = map[*exec.Cmd]bool{}
)

func track(c *exec.Cmd, on bool) {
	childMu.Lock()
	defer childMu.Unlock()
	if on {
		children[c] = true
	} else {
		delete(children, c)
	}
}

func start(dir, name, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	f, err := os.Create(filepath.Join(dir, name+".err"))
	if err != nil {
		fatal(err)
	}
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		fatal(fmt.Errorf("%s: %w", name, err))
	}
	track(cmd, true)
	return cmd
}

func stop(cmd *exec.Cmd) { stopWithin(cmd, 10*time.Second) }

// stopWithin interrupts cmd and waits for it, killing it after d.
func stopWithin(cmd *exec.Cmd, d time.Duration) {
	defer track(cmd, false)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "serveload:", err)
	os.Exit(1)
}
