-- Records a policy change could not decide (an unreadable row, a failed transaction): the
-- scheduler decides each again under that policy at every round until it can, then removes it.
-- A later policy change replaces the list.
CREATE TABLE records_to_refresh (
    person_key      TEXT NOT NULL,
    case_code       TEXT NOT NULL,
    policy          TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    since           TEXT NOT NULL,
    PRIMARY KEY (person_key, case_code)
);
