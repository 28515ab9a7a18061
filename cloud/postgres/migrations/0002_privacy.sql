-- 0002: privacy, as the embedded store's migration 0009 (see its
-- comments). The ID numbers and names of check-ins are sealed with
-- AES-256-GCM under the hub's key ring (Options.KeyFile; each value names
-- its key: "enc1:<key ID>:..."). id_hash is the keyed hash (HMAC-SHA256
-- under the ring's lookup key) that finds one person's check-ins;
-- anonymised_at is when the ID number and name were removed (retention,
-- or the person's request), NULL while they are kept. Rows an older hub
-- stored in plain text are sealed by the store when it opens
-- (Store.sealPlain), not here: SQL has no key.

ALTER TABLE checkins ADD COLUMN id_hash TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE checkins ADD COLUMN anonymised_at BIGINT;

CREATE INDEX checkins_id_hash ON checkins (id_hash) WHERE id_hash <> '';
-- The retention sweep reads only rows still holding personal data.
CREATE INDEX checkins_kept_at ON checkins (at) WHERE anonymised_at IS NULL;
