//! Pure domain of fengcun: the facts the sealing rules are about.
//!
//! Everything here is validated at the edge (`parse`), so the rest of the system works with values
//! that cannot hold what the Criminal Law does not allow: an identity number with a wrong check
//! character, 拘役 of seven months, probation on a life sentence. Nothing in this crate reads a file,
//! the network or the clock.

pub mod age;
pub mod case_code;
pub mod catalogue;
pub mod charge;
pub mod date;
pub mod disposition;
pub mod error;
pub mod event;
pub mod facts;
pub mod id_number;
pub mod numerals;
pub mod record;
pub mod sentence;
pub mod violation;
mod violation_facts;

pub use age::age_in_full_years;
pub use case_code::CaseCode;
pub use catalogue::{Catalogue, CatalogueError};
pub use charge::{Charge, ChargeId, Culpability, Tag, TagSet};
pub use date::Date;
pub use disposition::{Disposition, NonProsecutionGround};
pub use error::{FactError, FieldError};
pub use event::{
    Agency, AgencyKind, Event, EventKind, EventPerson, EventViolation, Instance, Judgment,
    JudgmentVerdict, PERSON_NAME_MAX, ValidEvent, check_name, is_invisible_formatting,
};
pub use facts::{RecordParser, parse_record, write_record};
pub use id_number::IdNumber;
pub use record::{ChargeRef, Conditions, Person, Record};
pub use sentence::{Principal, PrincipalKind, Sentence, SentenceError};
pub use violation::{Behaviour, BehaviourId, Penalty, RecordKind, ViolationCatalogue};
