/* Fixture: the ecall/ocall table. */
