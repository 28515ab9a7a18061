-- 0003: the station's disk from its last heartbeat.
ALTER TABLE presence ADD COLUMN disk_free INTEGER NOT NULL DEFAULT 0;
ALTER TABLE presence ADD COLUMN disk_file INTEGER NOT NULL DEFAULT 0;
ALTER TABLE presence ADD COLUMN disk_low INTEGER NOT NULL DEFAULT 0;
