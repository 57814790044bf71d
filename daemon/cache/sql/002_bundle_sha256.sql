-- Schema 2: remember which exact bundle file produced this state, so an operator
-- can match a kiosk's cache against the published file (sha256sum FILE.kbs).
ALTER TABLE meta ADD COLUMN bundle_sha256 TEXT NOT NULL DEFAULT '';
