-- 0001: the hub's schema on PostgreSQL, equal in content to the embedded
-- store's migrations 0001-0007 (cloud/sqlite/migrations).
--
-- Times are BIGINT Unix nanoseconds in UTC (NULL where a time may be
-- absent), as in the embedded store, so both stores share their cursor
-- format and range filters compare integers. Keys are COLLATE "C" so
-- that ORDER BY and keyset cursors compare bytes, as Go and SQLite do.

CREATE TABLE stations (
	id       TEXT COLLATE "C" PRIMARY KEY,
	name     TEXT NOT NULL,
	name_en  TEXT NOT NULL DEFAULT '',
	level    TEXT NOT NULL,
	parent   TEXT COLLATE "C" NOT NULL DEFAULT '',
	services TEXT NOT NULL DEFAULT '',
	address  TEXT NOT NULL DEFAULT '',
	contact  TEXT NOT NULL DEFAULT ''
);

-- The idempotence key of check-ins. checkins is partitioned by month of
-- at, and a partitioned table's unique keys must hold the partition key,
-- so this narrow table alone says whether an ID is stored (and where).
CREATE TABLE checkin_ids (
	id TEXT COLLATE "C" PRIMARY KEY,
	at BIGINT NOT NULL
);

-- Partitions are made by the store, a month each (UTC), ahead of need:
-- see partitions.go.
CREATE TABLE checkins (
	id          TEXT COLLATE "C" NOT NULL,
	station_id  TEXT COLLATE "C" NOT NULL,
	seq         BIGINT NOT NULL,
	at          BIGINT NOT NULL,  -- station clock
	received_at BIGINT NOT NULL,  -- hub clock
	service     TEXT COLLATE "C" NOT NULL,
	method      TEXT NOT NULL,
	queue_no    TEXT NOT NULL DEFAULT '',
	id_number   TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	doc         TEXT NOT NULL DEFAULT '',
	staff       TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT ''
) PARTITION BY RANGE (at);
-- No primary key here: checkin_ids is the key, and a lookup by ID takes
-- its at from there and finds the row through checkins_at (at, id).

CREATE INDEX checkins_station_seq ON checkins (station_id, seq);
CREATE INDEX checkins_at ON checkins (at DESC, id DESC);
CREATE INDEX checkins_station_at ON checkins (station_id, at DESC, id DESC);

CREATE TABLE presence (
	station_id      TEXT COLLATE "C" PRIMARY KEY,
	state           TEXT NOT NULL,
	since           BIGINT,
	reason          TEXT NOT NULL DEFAULT '',
	last_seen       BIGINT,
	last_heartbeat  BIGINT,
	heartbeat_s     INTEGER NOT NULL DEFAULT 0,
	agent           TEXT NOT NULL DEFAULT '',
	config_version  TEXT NOT NULL DEFAULT '',
	connected_at    BIGINT,
	uptime_s        BIGINT NOT NULL DEFAULT 0,
	outbox_depth    INTEGER NOT NULL DEFAULT 0,
	outbox_oldest   BIGINT,
	outbox_last_seq BIGINT NOT NULL DEFAULT 0,
	outbox_rejected INTEGER NOT NULL DEFAULT 0,
	readers         TEXT NOT NULL DEFAULT '[]',
	clock_skew_ms   BIGINT NOT NULL DEFAULT 0,
	disk_free       BIGINT NOT NULL DEFAULT 0,
	disk_file       BIGINT NOT NULL DEFAULT 0,
	disk_low        BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE feedback (
	id          TEXT COLLATE "C" PRIMARY KEY,
	station_id  TEXT COLLATE "C" NOT NULL,
	checkin_id  TEXT COLLATE "C" NOT NULL,
	service     TEXT COLLATE "C" NOT NULL,
	rating      INTEGER NOT NULL,
	reasons     TEXT NOT NULL DEFAULT '',
	comment     TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL,
	received_at BIGINT NOT NULL
);
CREATE INDEX feedback_at ON feedback (at DESC, id DESC);
CREATE INDEX feedback_station_at ON feedback (station_id, at DESC, id DESC);
CREATE INDEX feedback_checkin ON feedback (checkin_id);

CREATE TABLE visit_events (
	id          TEXT COLLATE "C" PRIMARY KEY,
	station_id  TEXT COLLATE "C" NOT NULL,
	checkin_id  TEXT COLLATE "C" NOT NULL,
	action      TEXT NOT NULL,
	service     TEXT COLLATE "C" NOT NULL,
	queue_no    TEXT NOT NULL,
	staff       TEXT NOT NULL DEFAULT '',
	counter     TEXT NOT NULL DEFAULT '',
	to_service  TEXT NOT NULL DEFAULT '',
	to_queue_no TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL,
	received_at BIGINT NOT NULL
);
CREATE INDEX visit_events_at ON visit_events (at DESC, id DESC);
CREATE INDEX visit_events_station_at ON visit_events (station_id, at DESC, id DESC);
CREATE INDEX visit_events_checkin ON visit_events (checkin_id);

CREATE TABLE duty (
	id          TEXT COLLATE "C" PRIMARY KEY,
	station_id  TEXT COLLATE "C" NOT NULL,
	staff       TEXT NOT NULL,
	on_duty     BOOLEAN NOT NULL,
	at          BIGINT NOT NULL,
	received_at BIGINT NOT NULL
);
CREATE INDEX duty_at ON duty (at DESC, id DESC);
CREATE INDEX duty_station_at ON duty (station_id, at DESC, id DESC);

-- The dashboard's aggregates: the same tables as the embedded store's
-- migration 0007 (see its comments), kept by Save in the same
-- transaction as the rows they count.
CREATE TABLE meta (
	key   TEXT COLLATE "C" PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE station_totals (
	station_id TEXT COLLATE "C" PRIMARY KEY,
	checkins   BIGINT NOT NULL,
	last_seq   BIGINT NOT NULL,
	last_at    BIGINT NOT NULL
);

CREATE TABLE agg_checkins (
	scope   TEXT COLLATE "C" NOT NULL,
	day     BIGINT NOT NULL,
	hour    INTEGER NOT NULL,
	service TEXT COLLATE "C" NOT NULL,
	n       BIGINT NOT NULL,
	PRIMARY KEY (scope, day, hour, service)
);

CREATE TABLE agg_scope_day (
	scope   TEXT COLLATE "C" NOT NULL,
	service TEXT COLLATE "C" NOT NULL,
	day     BIGINT NOT NULL,
	n       BIGINT NOT NULL,
	PRIMARY KEY (scope, service, day)
);

CREATE TABLE agg_scope_hour (
	scope TEXT COLLATE "C" NOT NULL,
	day   BIGINT NOT NULL,
	hour  INTEGER NOT NULL,
	n     BIGINT NOT NULL,
	PRIMARY KEY (scope, day, hour)
);

CREATE TABLE agg_station_day (
	day        BIGINT NOT NULL,
	station_id TEXT COLLATE "C" NOT NULL,
	service    TEXT COLLATE "C" NOT NULL,
	n          BIGINT NOT NULL,
	PRIMARY KEY (day, station_id, service)
);

CREATE TABLE station_cum (
	station_id TEXT COLLATE "C" NOT NULL,
	day        BIGINT NOT NULL,
	checkins   BIGINT NOT NULL,
	r1         BIGINT NOT NULL,
	r2         BIGINT NOT NULL,
	r3         BIGINT NOT NULL,
	r4         BIGINT NOT NULL,
	r5         BIGINT NOT NULL,
	PRIMARY KEY (station_id, day)
);

CREATE TABLE scope_cum (
	scope    TEXT COLLATE "C" NOT NULL,
	service  TEXT COLLATE "C" NOT NULL,
	day      BIGINT NOT NULL,
	checkins BIGINT NOT NULL,
	r1       BIGINT NOT NULL,
	r2       BIGINT NOT NULL,
	r3       BIGINT NOT NULL,
	r4       BIGINT NOT NULL,
	r5       BIGINT NOT NULL,
	PRIMARY KEY (scope, service, day)
);

CREATE TABLE agg_rating_scope (
	scope   TEXT COLLATE "C" NOT NULL,
	service TEXT COLLATE "C" NOT NULL,
	day     BIGINT NOT NULL,
	rating  INTEGER NOT NULL,
	n       BIGINT NOT NULL,
	PRIMARY KEY (scope, service, day, rating)
);

CREATE TABLE agg_ratings (
	day        BIGINT NOT NULL,
	station_id TEXT COLLATE "C" NOT NULL,
	service    TEXT COLLATE "C" NOT NULL,
	rating     INTEGER NOT NULL,
	n          BIGINT NOT NULL,
	PRIMARY KEY (day, station_id, service, rating)
);

CREATE TABLE station_log (
	id         BIGSERIAL PRIMARY KEY,
	station_id TEXT COLLATE "C" NOT NULL,
	at         BIGINT NOT NULL,
	kind       TEXT NOT NULL,
	subject    TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX station_log_station_at ON station_log (station_id, at);

CREATE TABLE alerts (
	id               BIGSERIAL PRIMARY KEY,
	rule             TEXT NOT NULL,
	key              TEXT COLLATE "C" NOT NULL,
	station_id       TEXT COLLATE "C" NOT NULL,
	subject          TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL,
	message_zh       TEXT NOT NULL,
	message_en       TEXT NOT NULL,
	opened_at        BIGINT NOT NULL,
	due              BIGINT,
	cleared_at       BIGINT,
	ack_at           BIGINT,
	ack_by           TEXT NOT NULL DEFAULT '',
	ack_comment      TEXT NOT NULL DEFAULT '',
	resolved_at      BIGINT,
	resolved_by      TEXT NOT NULL DEFAULT '',
	resolved_comment TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_key_active ON alerts (key) WHERE state <> 'resolved';
CREATE INDEX alerts_station ON alerts (station_id, id);
CREATE INDEX alerts_state ON alerts (state, id);

CREATE TABLE users (
	name          TEXT COLLATE "C" PRIMARY KEY,
	display_name  TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL,
	station_id    TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	disabled      BOOLEAN NOT NULL DEFAULT false,
	created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT COLLATE "C" PRIMARY KEY,
	user_name  TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	addr       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE audit (
	id        BIGSERIAL PRIMARY KEY,
	at        BIGINT NOT NULL,
	user_name TEXT NOT NULL,
	role      TEXT NOT NULL DEFAULT '',
	action    TEXT NOT NULL,
	target    TEXT NOT NULL DEFAULT '',
	reason    TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT '',
	addr      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_user ON audit (user_name, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_at ON audit (at);
