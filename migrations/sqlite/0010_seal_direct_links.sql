-- Issue 27: the direct's link is written into the 1:1's invite, so each pass needs the link
-- itself, not only its digest. It is kept encrypted under the secrets key (purpose "direct
-- link"), not in clear beside the digest. NULL for links made before this, which only their
-- digest can check (the invite then carries no link until a new one is made).
ALTER TABLE series_links ADD COLUMN token_sealed BLOB;
