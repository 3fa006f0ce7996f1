import hashlib

import pytest

from agentaudit.store.chain import merkle


def test_root_follows_rfc_6962_definition():
    a, b, c = b"a", b"b", b"c"
    la, lb, lc = (merkle.leaf_hash(x) for x in (a, b, c))
    assert merkle.root([a]) == la
    assert merkle.root([a, b]) == merkle.node_hash(la, lb)
    # n=3: k=2, MTH = node(MTH(a,b), MTH(c))
    assert merkle.root([a, b, c]) == merkle.node_hash(merkle.node_hash(la, lb), lc)
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13])
def test_every_inclusion_path_leads_to_the_root(size):
    leaves = [bytes([i]) * 3 for i in range(size)]
    top = merkle.root(leaves)
    for index in range(size):
        path = merkle.inclusion_path(leaves, index)
        assert merkle.root_from_path(leaves[index], index, size, path) == top
        if path:  # another leaf's data under this path leads elsewhere
            assert merkle.root_from_path(b"forged", index, size, path) != top
