/* Fixture: an enclave internal. */
