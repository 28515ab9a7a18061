-- 0002: the station's clock skew as the hub saw it at its last heartbeat,
-- in milliseconds (station clock minus hub clock).
ALTER TABLE presence ADD COLUMN clock_skew_ms INTEGER NOT NULL DEFAULT 0;
