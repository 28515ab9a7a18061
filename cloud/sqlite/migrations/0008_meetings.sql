-- 0008: the three-level video conference: meetings, the stations each
-- invites, the attendance that stations report (staff roll-calls and
-- roll-call check-ins, stored by Save with their batch) and the follow-up
-- of absent stations.
CREATE TABLE meetings (
	id         TEXT PRIMARY KEY,          -- made at the hub
	series_id  TEXT NOT NULL DEFAULT '',  -- the recurring series, or ''
	title      TEXT NOT NULL,
	kind       TEXT NOT NULL,             -- training, supervision, information
	start_at   INTEGER NOT NULL,          -- Unix nanoseconds
	end_at     INTEGER NOT NULL,
	room       TEXT NOT NULL,             -- room name at the video provider
	invite     TEXT NOT NULL,             -- the invitation as given (JSON)
	roles      TEXT NOT NULL DEFAULT '',  -- expected staff roles, comma-separated
	veterans   INTEGER NOT NULL DEFAULT 0,
	cancelled  INTEGER NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX meetings_end ON meetings (end_at);
CREATE INDEX meetings_start ON meetings (start_at, id);
CREATE INDEX meetings_series ON meetings (series_id) WHERE series_id != '';

-- The invitation resolved: one row per invited station.
CREATE TABLE meeting_stations (
	meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
	station_id TEXT NOT NULL,
	pos        INTEGER NOT NULL,          -- registry order
	PRIMARY KEY (meeting_id, station_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX meeting_stations_station ON meeting_stations (station_id, meeting_id);

-- Roll-call answers. A person's row has the ID of its check-in (and reads
-- the ID number and name from it); a staff row the ID of its record. No
-- foreign key to meetings: a station may report a meeting the hub
-- deleted, and the row is kept.
CREATE TABLE attendance (
	id          TEXT PRIMARY KEY,
	meeting_id  TEXT NOT NULL,
	station_id  TEXT NOT NULL,
	kind        TEXT NOT NULL,            -- staff or person
	staff       TEXT NOT NULL DEFAULT '',
	role        TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL,
	at          INTEGER NOT NULL,         -- station clock
	received_at INTEGER NOT NULL          -- hub clock
) STRICT;

CREATE INDEX attendance_meeting ON attendance (meeting_id, station_id, at);
CREATE INDEX attendance_station_at ON attendance (station_id, at);
CREATE INDEX attendance_at ON attendance (at);

CREATE TABLE meeting_followups (
	id         INTEGER PRIMARY KEY,
	meeting_id TEXT NOT NULL,
	station_id TEXT NOT NULL,
	at         INTEGER NOT NULL,
	by_user    TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX meeting_followups_meeting ON meeting_followups (meeting_id, id);

-- A roster reads the presence of all its stations at once: the state each
-- was in at the start, and the transitions inside the meeting.
CREATE INDEX station_log_station_kind_at ON station_log (station_id, kind, at);
CREATE INDEX station_log_kind_at ON station_log (kind, at);
