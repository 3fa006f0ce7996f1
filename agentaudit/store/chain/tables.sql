-- The tamper-evident chain (agentaudit/store/chain/). Registered in agentaudit/store/tables.py;
-- a change to a table that stores already have is a migration.

-- one link per write batch of a chained table: the rows' keys and content hashes in order,
-- their Merkle root, and the hash over the previous link and this one (writer.py)
CREATE TABLE IF NOT EXISTS chain (
    seq BIGINT, table_name VARCHAR, action VARCHAR, note VARCHAR, row_keys VARCHAR[],
    row_hashes VARCHAR[], batch_root VARCHAR, prev_hash VARCHAR, link_hash VARCHAR,
    created_at TIMESTAMPTZ
);

-- signed Merkle tree heads over the links (signing.py)
CREATE TABLE IF NOT EXISTS chain_checkpoints (
    checkpoint_no BIGINT, tree_size BIGINT, root_hash VARCHAR, head_hash VARCHAR,
    created_at TIMESTAMPTZ, key_id VARCHAR, signature VARCHAR
);
