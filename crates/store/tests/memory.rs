//! The conformance suite on the memory backend.

certfleet_store::storage_conformance_tests!(memory, || async {
    certfleet_store::conformance::Fixture::new(certfleet_store::memory::MemoryStore::new())
});
