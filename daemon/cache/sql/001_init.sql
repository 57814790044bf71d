-- Schema 1: one signed membership state, checkable at lookup time.
-- The file is written once (as a staging file) and never modified after the swap.

-- Exactly one row: the state this file holds, as signed.
CREATE TABLE meta (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  manifest           TEXT    NOT NULL,  -- signed envelope, byte for byte as in the bundle
  type               TEXT    NOT NULL,  -- 'snapshot' or 'delta': how this state arrived
  serial             INTEGER NOT NULL,
  profile            TEXT    NOT NULL,  -- 'kiosk' or 'staff'
  signed_at          INTEGER NOT NULL,  -- Unix seconds (copies; the manifest is authoritative)
  expires_at         INTEGER NOT NULL,
  bucket_count       INTEGER NOT NULL,
  record_count       INTEGER NOT NULL,
  content_digest     BLOB    NOT NULL,  -- 32 bytes
  newest_signed_seen INTEGER NOT NULL,  -- max signed_at ever imported (clock-tamper check)
  imported_at        INTEGER NOT NULL
);

-- SHA-256 of each bucket; at open they must hash to the signed content digest.
CREATE TABLE buckets (
  bucket INTEGER PRIMARY KEY,
  digest BLOB    NOT NULL
);

-- Clustered by bucket: a lookup reads one contiguous key range, and a snapshot
-- (whose entries arrive in bucket order) is appended sequentially.
CREATE TABLE records (
  bucket  INTEGER NOT NULL,
  card_no TEXT    NOT NULL,
  body    TEXT    NOT NULL,  -- the record's canonical JSON, byte for byte as signed
  PRIMARY KEY (bucket, card_no)
) WITHOUT ROWID;
