-- 0001: stations, check-ins and presence.
-- Times are INTEGER Unix nanoseconds in UTC (NULL where a time may be
-- absent), so that ordering and range filters compare integers.

CREATE TABLE stations (
	id       TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	name_en  TEXT NOT NULL DEFAULT '',
	level    TEXT NOT NULL,
	parent   TEXT NOT NULL DEFAULT '',
	services TEXT NOT NULL DEFAULT '', -- service keys, comma-separated; empty means the level's defaults
	address  TEXT NOT NULL DEFAULT '',
	contact  TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE checkins (
	id          TEXT PRIMARY KEY,  -- made at the edge; the idempotence key
	station_id  TEXT NOT NULL,
	seq         INTEGER NOT NULL,  -- the station's sequence number
	at          INTEGER NOT NULL,  -- station clock
	received_at INTEGER NOT NULL,  -- hub clock
	service     TEXT NOT NULL,
	method      TEXT NOT NULL,
	queue_no    TEXT NOT NULL DEFAULT '',
	id_number   TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	doc         TEXT NOT NULL DEFAULT ''
) STRICT;

-- Not UNIQUE: a station whose store was wiped starts again at seq 1 with
-- new IDs, and refusing those would block its outbox for ever. Gaps and
-- repeats are found by reading this index.
CREATE INDEX checkins_station_seq ON checkins (station_id, seq);
-- Keyset paging newest first, over all stations and per station.
CREATE INDEX checkins_at ON checkins (at DESC, id DESC);
CREATE INDEX checkins_station_at ON checkins (station_id, at DESC, id DESC);

CREATE TABLE presence (
	station_id      TEXT PRIMARY KEY,
	state           TEXT NOT NULL,
	since           INTEGER,
	reason          TEXT NOT NULL DEFAULT '',
	last_seen       INTEGER,
	last_heartbeat  INTEGER,
	heartbeat_s     INTEGER NOT NULL DEFAULT 0,
	agent           TEXT NOT NULL DEFAULT '',
	config_version  TEXT NOT NULL DEFAULT '',
	connected_at    INTEGER,
	uptime_s        INTEGER NOT NULL DEFAULT 0,
	outbox_depth    INTEGER NOT NULL DEFAULT 0,
	outbox_oldest   INTEGER,
	outbox_last_seq INTEGER NOT NULL DEFAULT 0,
	outbox_rejected INTEGER NOT NULL DEFAULT 0,
	readers         TEXT NOT NULL DEFAULT '[]' -- JSON array of {name, kind, state, detail}
) STRICT;
