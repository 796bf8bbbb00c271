-- The cafe's accounts and sign-in sessions (the API owns them). Passwords are stored only as
-- argon2id hashes (PHC strings: algorithm, parameters, salt and hash together).

CREATE TABLE accounts (
    -- The customer id of a customer's orders; a staff member's sign-in name.
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('customer', 'barista', 'manager')),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per sign-in. The token a client holds names its row and is signed with the API's key;
-- a signed token whose row is revoked or expired is refused. Times are Unix seconds.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX sessions_by_account ON sessions (account);
