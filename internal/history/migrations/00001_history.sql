-- fleetwatch history: one table per kind of event, each row keeping the
-- Kafka record it came from. (topic, partition, "offset", idx) names an
-- event: idx is its place in its record, 0 except for records that carry
-- several (a GTFS-realtime feed). Timestamps are the events' own.

-- +goose Up

-- Positions are the bulk: partitioned by day (UTC) so retention drops a
-- day at a time. fleetwatch creates each day's partition before writing
-- into it (vehicle_positions_pYYYYMMDD). A unique constraint on a
-- partitioned table must contain the partition key, hence ts in the key: a
-- record written twice has the same ts (it comes from the record itself),
-- lands in the same partition and collides there.
CREATE TABLE vehicle_positions (
    topic      text             NOT NULL,
    partition  integer          NOT NULL,
    "offset"   bigint           NOT NULL,
    idx        integer          NOT NULL DEFAULT 0,
    ts         timestamptz      NOT NULL,
    vehicle_id text             NOT NULL,
    -- A tombstone: the vehicle left service at ts (the record's time); its
    -- other columns are null.
    removed    boolean          NOT NULL DEFAULT false,
    line       text,
    lat        double precision,
    lon        double precision,
    -- Null when the report did not carry the field.
    speed_kmh  double precision,
    heading    double precision,
    status     text,
    stop_id    text,
    delay_s    double precision,
    occupancy  double precision,
    CONSTRAINT vehicle_positions_record UNIQUE (topic, partition, "offset", idx, ts)
) PARTITION BY RANGE (ts);

-- A vehicle's track, and each vehicle's last report before a moment.
CREATE INDEX vehicle_positions_vehicle_ts ON vehicle_positions (vehicle_id, ts);
-- The fleet in a time window; replay in time order.
CREATE INDEX vehicle_positions_ts ON vehicle_positions (ts);

CREATE TABLE station_events (
    topic           text             NOT NULL,
    partition       integer          NOT NULL,
    "offset"        bigint           NOT NULL,
    idx             integer          NOT NULL DEFAULT 0,
    -- A reference record has no time of its own: ts is its record's.
    ts              timestamptz      NOT NULL,
    station_id      text             NOT NULL,
    type            text             NOT NULL CHECK (type IN ('station', 'arrival', 'turnstile')),
    vehicle_id      text,
    line            text,
    direction       text,
    prev_station_id text,
    entries         bigint,
    name            text,
    lines           text[],
    lat             double precision,
    lon             double precision,
    CONSTRAINT station_events_record UNIQUE (topic, partition, "offset", idx)
);
CREATE INDEX station_events_station_ts ON station_events (station_id, ts);
CREATE INDEX station_events_ts ON station_events (ts);

CREATE TABLE weather (
    topic     text             NOT NULL,
    partition integer          NOT NULL,
    "offset"  bigint           NOT NULL,
    idx       integer          NOT NULL DEFAULT 0,
    ts        timestamptz      NOT NULL,
    area      text             NOT NULL,
    temp_c    double precision,
    wind_kmh  double precision,
    humidity  double precision,
    condition text,
    CONSTRAINT weather_record UNIQUE (topic, partition, "offset", idx)
);
CREATE INDEX weather_area_ts ON weather (area, ts);
CREATE INDEX weather_ts ON weather (ts);

-- The latest reference record of each station, for readers that want the
-- stations without scanning the events (and for Kafka Connect to capture).
CREATE TABLE stations (
    station_id text             PRIMARY KEY,
    name       text,
    lines      text[],
    lat        double precision,
    lon        double precision,
    -- The time of the record this row was taken from: an older record
    -- read later does not replace a newer one.
    updated_at timestamptz      NOT NULL,
    topic      text             NOT NULL,
    partition  integer          NOT NULL,
    "offset"   bigint           NOT NULL
);

-- Records that could not be used, kept with the reason rather than lost.
CREATE TABLE rejected (
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    stream      text        NOT NULL,
    category    text        NOT NULL,
    reason      text        NOT NULL,
    -- Some of the record's events were stored; this is why the others
    -- were not.
    partial     boolean     NOT NULL DEFAULT false,
    size        integer     NOT NULL,
    excerpt     bytea,
    -- The record's time.
    at          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rejected_record UNIQUE (topic, partition, "offset")
);
CREATE INDEX rejected_at ON rejected (at);

-- Where each consumer group's recorders resume: the offset after the last
-- record written, committed in the same transaction as the rows.
CREATE TABLE consumer_offsets (
    group_id    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- +goose Down
DROP TABLE consumer_offsets;
DROP TABLE rejected;
DROP TABLE stations;
DROP TABLE weather;
DROP TABLE station_events;
DROP TABLE vehicle_positions;
