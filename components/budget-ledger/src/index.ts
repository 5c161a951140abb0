// Public interface of @veil/budget-ledger.
export {};
