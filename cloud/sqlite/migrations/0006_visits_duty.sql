-- 0006: what the hall produces. Visit events are the steps of a visit's
-- queue ticket after its check-in; duty events are staff signing on and
-- off duty; a check-in keeps the service's sub-choice (detail).
ALTER TABLE checkins ADD COLUMN detail TEXT NOT NULL DEFAULT '';

CREATE TABLE visit_events (
	id          TEXT PRIMARY KEY,  -- made at the station; the idempotence key
	station_id  TEXT NOT NULL,
	checkin_id  TEXT NOT NULL,     -- the visit (not a foreign key: it may arrive first)
	action      TEXT NOT NULL,     -- called, recalled, served, no_show, transferred
	service     TEXT NOT NULL,
	queue_no    TEXT NOT NULL,
	staff       TEXT NOT NULL DEFAULT '',
	counter     TEXT NOT NULL DEFAULT '',
	to_service  TEXT NOT NULL DEFAULT '', -- transferred only
	to_queue_no TEXT NOT NULL DEFAULT '',
	at          INTEGER NOT NULL,  -- station clock, Unix nanoseconds
	received_at INTEGER NOT NULL   -- hub clock
) STRICT;

CREATE INDEX visit_events_at ON visit_events (at DESC, id DESC);
CREATE INDEX visit_events_station_at ON visit_events (station_id, at DESC, id DESC);
CREATE INDEX visit_events_checkin ON visit_events (checkin_id);

CREATE TABLE duty (
	id          TEXT PRIMARY KEY,
	station_id  TEXT NOT NULL,
	staff       TEXT NOT NULL,
	on_duty     INTEGER NOT NULL,  -- 1 signed on, 0 signed off
	at          INTEGER NOT NULL,
	received_at INTEGER NOT NULL
) STRICT;

CREATE INDEX duty_at ON duty (at DESC, id DESC);
CREATE INDEX duty_station_at ON duty (station_id, at DESC, id DESC);
