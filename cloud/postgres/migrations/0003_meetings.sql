-- 0003: the three-level video conference, as the embedded store's
-- migration 0008 (see its comments): meetings, the stations each invites,
-- the attendance stations report (staff roll-calls and roll-call
-- check-ins, stored by Save in the transaction of their batch) and the
-- follow-up of absent stations.
CREATE TABLE meetings (
	id         TEXT COLLATE "C" PRIMARY KEY,
	series_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
	title      TEXT NOT NULL,
	kind       TEXT NOT NULL,
	start_at   BIGINT NOT NULL,
	end_at     BIGINT NOT NULL,
	room       TEXT NOT NULL,
	invite     TEXT NOT NULL,             -- the invitation as given (JSON)
	roles      TEXT NOT NULL DEFAULT '',  -- expected staff roles, comma-separated
	veterans   BOOLEAN NOT NULL DEFAULT false,
	cancelled  BOOLEAN NOT NULL DEFAULT false,
	created_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX meetings_end ON meetings (end_at);
CREATE INDEX meetings_start ON meetings (start_at, id);
CREATE INDEX meetings_series ON meetings (series_id) WHERE series_id <> '';

CREATE TABLE meeting_stations (
	meeting_id TEXT COLLATE "C" NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
	station_id TEXT COLLATE "C" NOT NULL,
	pos        INTEGER NOT NULL,
	PRIMARY KEY (meeting_id, station_id)
);

CREATE INDEX meeting_stations_station ON meeting_stations (station_id, meeting_id);

-- A person's row has the ID of its check-in (and reads the ID number and
-- name from it, through checkin_ids); a staff row the ID of its record.
-- No foreign key to meetings: a station may report a meeting the hub
-- deleted, and the row is kept.
CREATE TABLE attendance (
	id          TEXT COLLATE "C" PRIMARY KEY,
	meeting_id  TEXT COLLATE "C" NOT NULL,
	station_id  TEXT COLLATE "C" NOT NULL,
	kind        TEXT NOT NULL,            -- staff or person
	staff       TEXT NOT NULL DEFAULT '',
	role        TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL,
	at          BIGINT NOT NULL,          -- station clock
	received_at BIGINT NOT NULL           -- hub clock
);

CREATE INDEX attendance_meeting ON attendance (meeting_id, station_id, at);
CREATE INDEX attendance_station_at ON attendance (station_id, at);
CREATE INDEX attendance_at ON attendance (at);

CREATE TABLE meeting_followups (
	id         BIGSERIAL PRIMARY KEY,
	meeting_id TEXT COLLATE "C" NOT NULL,
	station_id TEXT COLLATE "C" NOT NULL,
	at         BIGINT NOT NULL,
	by_user    TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT ''
);

CREATE INDEX meeting_followups_meeting ON meeting_followups (meeting_id, id);

-- A roster reads the presence of all its stations at once.
CREATE INDEX station_log_station_kind_at ON station_log (station_id, kind, at);
CREATE INDEX station_log_kind_at ON station_log (kind, at);
