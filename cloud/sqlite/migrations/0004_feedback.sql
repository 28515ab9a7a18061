-- 0004: ratings (好差评) of visits, as stations send them.
CREATE TABLE feedback (
	id          TEXT PRIMARY KEY,  -- made at the station; the idempotence key
	station_id  TEXT NOT NULL,
	checkin_id  TEXT NOT NULL,     -- the visit rated (not a foreign key: it may arrive first)
	service     TEXT NOT NULL,
	rating      INTEGER NOT NULL,  -- 1 very dissatisfied … 5 very satisfied
	reasons     TEXT NOT NULL DEFAULT '', -- reason keys, comma-separated
	comment     TEXT NOT NULL DEFAULT '',
	at          INTEGER NOT NULL,  -- station clock, Unix nanoseconds
	received_at INTEGER NOT NULL   -- hub clock
) STRICT;

CREATE INDEX feedback_at ON feedback (at DESC, id DESC);
CREATE INDEX feedback_station_at ON feedback (station_id, at DESC, id DESC);
CREATE INDEX feedback_checkin ON feedback (checkin_id);
