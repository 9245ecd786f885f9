package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrAlreadyWritten is returned (wrapped) by Write when the batch overlaps
// what the database holds: the group already recorded past the batch's
// first offset (a batch written twice, or a recorder that lost its
// partition and did not know), or one of its records is stored already.
// Nothing of the batch is written; the recorder should resume from Offsets.
var ErrAlreadyWritten = errors.New("records already written")

// Write stores a batch and moves the group's offsets past it, in one
// transaction: either all of it is stored and the offsets say so, or
// nothing is. For each partition the batch covers, the group's stored
// offset must not be past the batch's first offset; if it is, the batch is
// refused with ErrAlreadyWritten, so a batch written twice, or by a
// recorder that no longer owns the partition, cannot duplicate rows.
func (s *Store) Write(ctx context.Context, group string, b Batch) error {
	if err := s.ensurePartitions(ctx, b.Positions); err != nil {
		return err
	}
	err := s.write(ctx, group, &b)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23514" && strings.Contains(pg.Message, "no partition") {
		// Another process's Retain dropped a day this one thought it had.
		s.mu.Lock()
		clear(s.parts)
		s.mu.Unlock()
		if err := s.ensurePartitions(ctx, b.Positions); err != nil {
			return err
		}
		err = s.write(ctx, group, &b)
	}
	return err
}

func (s *Store) write(ctx context.Context, group string, b *Batch) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("history: write: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // after Commit, a no-op
	// Offsets first: the row locks they take make two writers of the same
	// partition wait for each other, and a refused batch costs no COPY.
	if err := moveOffsets(ctx, tx, group, b.Offsets); err != nil {
		return err
	}
	if len(b.Positions) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"vehicle_positions"}, positionColumns, &positionRows{rows: b.Positions}); err != nil {
			return writeErr("vehicle_positions", err)
		}
	}
	if len(b.StationEvents) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"station_events"}, stationEventColumns, &stationEventRows{rows: b.StationEvents}); err != nil {
			return writeErr("station_events", err)
		}
	}
	if len(b.Weather) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"weather"}, weatherColumns, &weatherRows{rows: b.Weather}); err != nil {
			return writeErr("weather", err)
		}
	}
	if len(b.Rejected) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rejected"}, rejectedColumns, &rejectedRows{rows: b.Rejected}); err != nil {
			return writeErr("rejected", err)
		}
	}
	if err := upsertStations(ctx, tx, b.Stations); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("history: write: commit: %w", err)
	}
	return nil
}

func writeErr(table string, err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" { // unique_violation
		return &wrapped{fmt.Sprintf("history: write %s: %s", table, strings.TrimSuffix(pg.Detail, ".")),
			errors.Join(ErrAlreadyWritten, err)}
	}
	return fmt.Errorf("history: write %s: %w", table, err)
}

// moveOffsets sets the group's next offset for each partition of the batch,
// refusing when a stored one is past the batch's first offset. Partitions
// go in a fixed order, so two writers never wait for each other's locks in
// opposite orders.
func moveOffsets(ctx context.Context, tx pgx.Tx, group string, offsets map[TopicPartition]Offset) error {
	if len(offsets) == 0 {
		return nil
	}
	tps := make([]TopicPartition, 0, len(offsets))
	for tp := range offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var q pgx.Batch
	for _, tp := range tps {
		o := offsets[tp]
		q.Queue(`INSERT INTO consumer_offsets AS o (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
			ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()
			WHERE o.next_offset <= $5
			RETURNING true`, group, tp.Topic, tp.Partition, o.Next, o.First)
	}
	res := tx.SendBatch(ctx, &q)
	var refused []TopicPartition
	for _, tp := range tps {
		var ok bool
		if err := res.QueryRow().Scan(&ok); errors.Is(err, pgx.ErrNoRows) {
			refused = append(refused, tp)
		} else if err != nil {
			res.Close()
			return fmt.Errorf("history: write offsets: %w", err)
		}
	}
	if err := res.Close(); err != nil {
		return fmt.Errorf("history: write offsets: %w", err)
	}
	if len(refused) == 0 {
		return nil
	}
	tp := refused[0]
	var stored int64
	if err := tx.QueryRow(ctx, `SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3`,
		group, tp.Topic, tp.Partition).Scan(&stored); err != nil {
		return fmt.Errorf("history: write offsets: %w", err)
	}
	more := ""
	if len(refused) > 1 {
		more = fmt.Sprintf(" (and %d more partitions)", len(refused)-1)
	}
	return &wrapped{fmt.Sprintf("history: write: %s partition %d: the batch starts at offset %d but group %q has recorded up to %d%s",
		tp.Topic, tp.Partition, offsets[tp].First, group, stored, more), ErrAlreadyWritten}
}

// upsertStations keeps each station's newest reference record. One
// statement cannot update a row twice, so the batch's own duplicates are
// settled here first, the later record winning a tie as it would live.
func upsertStations(ctx context.Context, tx pgx.Tx, rows []Station) error {
	if len(rows) == 0 {
		return nil
	}
	newest := map[string]int{}
	for i, st := range rows {
		if j, ok := newest[st.StationID]; !ok || !rows[j].UpdatedAt.After(st.UpdatedAt) {
			newest[st.StationID] = i
		}
	}
	// In order of id: two writers whose batches both carry some of the
	// same stations (a stations topic given more partitions, unkeyed
	// records) then lock their rows in the same order and wait for each
	// other, where in the order of a map they deadlocked.
	var q pgx.Batch
	for _, id := range slices.Sorted(maps.Keys(newest)) {
		st := &rows[newest[id]]
		var lat, lon any
		if st.HasPos {
			lat, lon = st.Lat, st.Lon
		}
		q.Queue(`INSERT INTO stations AS s (station_id, name, lines, lat, lon, updated_at, topic, partition, "offset")
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (station_id) DO UPDATE SET name = excluded.name, lines = excluded.lines, lat = excluded.lat,
				lon = excluded.lon, updated_at = excluded.updated_at, topic = excluded.topic,
				partition = excluded.partition, "offset" = excluded."offset"
			WHERE s.updated_at <= excluded.updated_at`,
			st.StationID, nullText(st.Name), st.Lines, lat, lon, st.UpdatedAt, st.Topic, st.Partition, st.Offset)
	}
	if err := tx.SendBatch(ctx, &q).Close(); err != nil {
		return fmt.Errorf("history: write stations: %w", err)
	}
	return nil
}

// Offsets returns where the group's recorders resume: for each partition
// it recorded from, the offset of the next record to read.
func (s *Store) Offsets(ctx context.Context, group string) (map[TopicPartition]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1`, group)
	if err != nil {
		return nil, fmt.Errorf("history: read offsets: %w", err)
	}
	out := map[TopicPartition]int64{}
	var (
		tp   TopicPartition
		next int64
	)
	_, err = pgx.ForEachRow(rows, []any{&tp.Topic, &tp.Partition, &next}, func() error {
		out[tp] = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: read offsets: %w", err)
	}
	return out, nil
}

// Day partitions of vehicle_positions.

const secondsPerDay = 24 * 60 * 60

// partitionLockID serialises partition creation between processes:
// concurrent CREATE TABLE IF NOT EXISTS of one name can fail.
const partitionLockID = 0x666c656574706172

func unixDay(t time.Time) int64 {
	s := t.Unix()
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d--
	}
	return d
}

func dayStart(day int64) time.Time { return time.Unix(day*secondsPerDay, 0).UTC() }

func partitionName(day int64) string {
	return "vehicle_positions_p" + dayStart(day).Format("20060102")
}

// parsePartitionName returns the day of a partition fleetwatch made.
func parsePartitionName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "vehicle_positions_p")
	if !ok || len(s) != 8 {
		return 0, false
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return 0, false
	}
	return unixDay(t), true
}

// ensurePartitions creates the day partitions the rows need. It runs in a
// transaction of its own, before the batch's: an empty partition is
// harmless if the batch then fails, and the lock it takes is held for a
// moment rather than for the length of a COPY.
func (s *Store) ensurePartitions(ctx context.Context, rows []Position) error {
	var need []int64
	s.mu.Lock()
	last := int64(-1 << 62)
	for i := range rows {
		d := unixDay(rows[i].TS)
		if d == last || s.parts[d] {
			continue
		}
		last = d
		if !slices.Contains(need, d) {
			need = append(need, d)
		}
	}
	s.mu.Unlock()
	if len(need) == 0 {
		return nil
	}
	slices.Sort(need)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockID)); err != nil {
			return err
		}
		for _, d := range need {
			sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF vehicle_positions FOR VALUES FROM ('%s') TO ('%s')`,
				pgx.Identifier{partitionName(d)}.Sanitize(),
				dayStart(d).Format("2006-01-02 15:04:05+00"), dayStart(d+1).Format("2006-01-02 15:04:05+00"))
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", partitionName(d), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: create partitions: %w", err)
	}
	s.mu.Lock()
	for _, d := range need {
		s.parts[d] = true
	}
	s.mu.Unlock()
	return nil
}

// RetainStats says what Retain removed.
type RetainStats struct {
	Cutoff            time.Time
	DroppedPartitions []string
	DeletedRows       int64 // from station_events, weather and rejected
}

// Retain drops history older than older: whole days of vehicle_positions
// (a partition goes when all of its day is older than the cutoff, so up to
// a day more is kept), and the older rows of station_events, weather and
// rejected. The stations table and the offsets are kept.
func (s *Store) Retain(ctx context.Context, older time.Duration) (RetainStats, error) {
	st := RetainStats{Cutoff: time.Now().Add(-older).UTC()}
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'vehicle_positions'::regclass`)
	if err != nil {
		return st, fmt.Errorf("history: retain: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return st, fmt.Errorf("history: retain: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		d, ok := parsePartitionName(name)
		if !ok || dayStart(d+1).After(st.Cutoff) {
			continue
		}
		if _, err := s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return st, fmt.Errorf("history: retain: drop %s: %w", name, err)
		}
		s.mu.Lock()
		delete(s.parts, d)
		s.mu.Unlock()
		st.DroppedPartitions = append(st.DroppedPartitions, name)
	}
	for _, q := range []string{
		`DELETE FROM station_events WHERE ts < $1`,
		`DELETE FROM weather WHERE ts < $1`,
		`DELETE FROM rejected WHERE at < $1`,
	} {
		tag, err := s.pool.Exec(ctx, q, st.Cutoff)
		if err != nil {
			return st, fmt.Errorf("history: retain: %w", err)
		}
		st.DeletedRows += tag.RowsAffected()
	}
	return st, nil
}
