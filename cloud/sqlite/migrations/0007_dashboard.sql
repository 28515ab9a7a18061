-- 0007: the dashboard: pre-aggregated statistics kept by Save in the same
-- transaction as the rows they count, the station log (presence, reader
-- and disk transitions), alerts and follow-up tasks, people, sessions and
-- the audit log.
--
-- Days are whole days since 1970-01-01 in the store's zone (the zone is
-- recorded in meta; the aggregates are rebuilt at Open when it changes),
-- hours are 0..23 in that zone.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- Per station: what the overview shows without scanning check-ins.
CREATE TABLE station_totals (
	station_id TEXT PRIMARY KEY,
	checkins   INTEGER NOT NULL,
	last_seq   INTEGER NOT NULL,
	last_at    INTEGER NOT NULL
) STRICT;

-- Check-ins per (scope, day, hour, service). scope is 'S:' || station for
-- a station's own check-ins and 'T:' || station for those of every
-- station below it in the tree (not its own): a subtree's count is
-- S:x + T:x, a few thousand rows for a district's month whatever the
-- number of stations.
CREATE TABLE agg_checkins (
	scope   TEXT NOT NULL,
	day     INTEGER NOT NULL,
	hour    INTEGER NOT NULL,
	service TEXT NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (scope, day, hour, service)
) STRICT, WITHOUT ROWID;

-- The same scopes per (scope, service, day): by day and by service
-- without the hours (a year of a district is a few thousand rows); the
-- service before the day so that one service of one station is one range.
CREATE TABLE agg_scope_day (
	scope   TEXT NOT NULL,
	service TEXT NOT NULL,
	day     INTEGER NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (scope, service, day)
) STRICT, WITHOUT ROWID;

-- And per (scope, day, hour): the busiest hours without the services.
CREATE TABLE agg_scope_hour (
	scope TEXT NOT NULL,
	day   INTEGER NOT NULL,
	hour  INTEGER NOT NULL,
	n     INTEGER NOT NULL,
	PRIMARY KEY (scope, day, hour)
) STRICT, WITHOUT ROWID;

-- Check-ins per (day, station, service): counts per station and service.
CREATE TABLE agg_station_day (
	day        INTEGER NOT NULL,
	station_id TEXT NOT NULL,
	service    TEXT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (day, station_id, service)
) STRICT, WITHOUT ROWID;

-- Running totals per station: check-ins and ratings 1..5 up to and
-- including each day that has any. A station's count over [from, to) is
-- two lookups, whatever the length of the period: the overview's and the
-- statistics' per-station figures for a thousand stations cost a few
-- thousand index seeks.
CREATE TABLE station_cum (
	station_id TEXT NOT NULL,
	day        INTEGER NOT NULL,
	checkins   INTEGER NOT NULL,
	r1         INTEGER NOT NULL,
	r2         INTEGER NOT NULL,
	r3         INTEGER NOT NULL,
	r4         INTEGER NOT NULL,
	r5         INTEGER NOT NULL,
	PRIMARY KEY (station_id, day)
) STRICT, WITHOUT ROWID;

-- Running totals per (scope, service): check-ins and ratings 1..5 up to
-- and including each day that has any, scopes as above: by service and
-- the satisfaction by service over any period are two lookups per scope
-- and service.
CREATE TABLE scope_cum (
	scope    TEXT NOT NULL,
	service  TEXT NOT NULL,
	day      INTEGER NOT NULL,
	checkins INTEGER NOT NULL,
	r1       INTEGER NOT NULL,
	r2       INTEGER NOT NULL,
	r3       INTEGER NOT NULL,
	r4       INTEGER NOT NULL,
	r5       INTEGER NOT NULL,
	PRIMARY KEY (scope, service, day)
) STRICT, WITHOUT ROWID;

-- Ratings per (scope, service, day, rating), scopes as for check-ins.
CREATE TABLE agg_rating_scope (
	scope   TEXT NOT NULL,
	service TEXT NOT NULL,
	day     INTEGER NOT NULL,
	rating  INTEGER NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (scope, service, day, rating)
) STRICT, WITHOUT ROWID;

-- Ratings per (day, station, service, rating).
CREATE TABLE agg_ratings (
	day        INTEGER NOT NULL,
	station_id TEXT NOT NULL,
	service    TEXT NOT NULL,
	rating     INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (day, station_id, service, rating)
) STRICT, WITHOUT ROWID;

CREATE TABLE station_log (
	id         INTEGER PRIMARY KEY,
	station_id TEXT NOT NULL,
	at         INTEGER NOT NULL, -- hub clock
	kind       TEXT NOT NULL,    -- presence | reader | disk | backlog
	subject    TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX station_log_station_at ON station_log (station_id, at);

CREATE TABLE alerts (
	id               INTEGER PRIMARY KEY,
	rule             TEXT NOT NULL,
	key              TEXT NOT NULL,
	station_id       TEXT NOT NULL,
	subject          TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL,  -- open | acknowledged | resolved
	message_zh       TEXT NOT NULL,
	message_en       TEXT NOT NULL,
	opened_at        INTEGER NOT NULL,
	due              INTEGER,
	cleared_at       INTEGER,
	ack_at           INTEGER,
	ack_by           TEXT NOT NULL DEFAULT '',
	ack_comment      TEXT NOT NULL DEFAULT '',
	resolved_at      INTEGER,
	resolved_by      TEXT NOT NULL DEFAULT '',
	resolved_comment TEXT NOT NULL DEFAULT ''
) STRICT;
-- At most one alert per key is not resolved.
CREATE UNIQUE INDEX alerts_key_active ON alerts (key) WHERE state <> 'resolved';
CREATE INDEX alerts_station ON alerts (station_id, id);
CREATE INDEX alerts_state ON alerts (state, id);

CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	display_name  TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL,
	station_id    TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	addr       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Append-only: the store has no statement that updates or deletes it.
CREATE TABLE audit (
	id        INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	user_name TEXT NOT NULL,
	role      TEXT NOT NULL DEFAULT '',
	action    TEXT NOT NULL,
	target    TEXT NOT NULL DEFAULT '',
	reason    TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT '',
	addr      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_user ON audit (user_name, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_at ON audit (at);
