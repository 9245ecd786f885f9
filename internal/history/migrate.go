package history

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is goose's record of the applied migrations, named for
// fleetwatch so that it cannot be mistaken for another application's in a
// shared database.
const versionTable = "fleetwatch_schema_version"

// migrateLockID is the advisory lock that keeps two recorders starting at
// once from migrating the same database together ("fleetwatch" in ASCII).
const migrateLockID = 0x666c656574776174

// ErrSchemaTooNew is returned (wrapped) when the database was migrated by a
// newer fleetwatch: this one does not know the schema and must not write
// into it.
var ErrSchemaTooNew = errors.New("database schema is newer than this fleetwatch")

// ErrNoSchema is returned (wrapped) by CheckSchema when the database holds
// no fleetwatch history yet.
var ErrNoSchema = errors.New("no fleetwatch history in this database")

// LatestVersion is the schema version this fleetwatch migrates to.
func LatestVersion() int64 {
	v, err := latestVersion()
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return v
}

func latestVersion() (int64, error) {
	sub, err := migrationsFS()
	if err != nil {
		return 0, err
	}
	names, err := fs.Glob(sub, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			return 0, fmt.Errorf("history: migration %s: %w", n, err)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

func migrationsFS() (fs.FS, error) { return fs.Sub(migrationFiles, "migrations") }

// SchemaVersion returns the database's schema version (0 when fleetwatch
// never migrated it) without changing anything.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, versionTable).Scan(&exists); err != nil {
		return 0, fmt.Errorf("history: read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM `+versionTable+` WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("history: read schema version: %w", err)
	}
	return v, nil
}

// CheckSchema tells whether this fleetwatch can read the database as it
// is: ErrNoSchema when nothing was recorded into it, ErrSchemaTooNew when
// a newer fleetwatch migrated it. Readers call it; Migrate does the same
// checks before changing anything.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := LatestVersion()
	switch {
	case v > latest:
		return tooNew(v, latest)
	case v == 0:
		return fmt.Errorf("history: %s: %w (record into it first)", s.addr, ErrNoSchema)
	case v < latest:
		return fmt.Errorf("history: %s: database schema version %d is older than this fleetwatch (%d); run fleetwatch record to migrate it", s.addr, v, latest)
	}
	return nil
}

func tooNew(v, latest int64) error {
	return &wrapped{fmt.Sprintf("history: database schema version %d is newer than this fleetwatch (%d); upgrade fleetwatch", v, latest), ErrSchemaTooNew}
}

// Migrate creates the schema or brings it up to this fleetwatch's version.
// It is idempotent and safe to run from several processes at once (they
// take turns under an advisory lock). A database migrated by a newer
// fleetwatch is refused with ErrSchemaTooNew, before anything is changed.
func (s *Store) Migrate(ctx context.Context) error {
	latest, err := latestVersion()
	if err != nil {
		return err
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v > latest {
		return tooNew(v, latest)
	}
	if v == latest {
		return nil
	}
	sub, err := migrationsFS()
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrateLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("history: migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(versionTable),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("history: migrate: %w", err)
	}
	// Another process may have migrated further while this one waited.
	if v, err := p.GetDBVersion(ctx); err != nil {
		return fmt.Errorf("history: migrate %s: %w", s.addr, err)
	} else if v > latest {
		return tooNew(v, latest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("history: migrate %s: %w", s.addr, err)
	}
	return nil
}
