//! The codes typed rows are stored and serialised with, written out by hand: each enum's code
//! reads back as the same value, serialises as the same JSON string, and every value has a row
//! (a new value fails here until its code is written down). These are the strings the database
//! holds and the API prints, so they may never change.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::fmt::Debug;

use fengcun_store::{
    AgencyKind, AuditKind, CertificateOutcome, NoticeKind, NoticeStatus, Purpose, RequestStatus,
    RequesterKind, Role, StateCode,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Checks one enum against its table: code, parse, JSON both ways, and that the table is whole.
fn round_trip<T>(
    table: &[(T, &str)],
    all: &[T],
    code: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
) where
    T: Copy + PartialEq + Debug + Serialize + DeserializeOwned,
{
    assert_eq!(table.len(), all.len(), "every value has its row");
    for &(value, text) in table {
        assert!(all.contains(&value), "{value:?}");
        assert_eq!(code(value), text);
        assert_eq!(parse(text), Some(value), "{text}");
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            format!("\"{text}\"")
        );
        assert_eq!(
            serde_json::from_str::<T>(&format!("\"{text}\"")).unwrap(),
            value
        );
    }
    for unknown in ["", "bogus", "Sealed", " sealed"] {
        assert_eq!(parse(unknown), None, "{unknown:?}");
    }
}

#[test]
fn record_states() {
    use StateCode::*;
    let table = [
        (Open, "open"),
        (NotEligible, "not_eligible"),
        (PendingSeal, "pending_seal"),
        (Sealed, "sealed"),
        (Unsealed, "unsealed"),
        (Revoked, "revoked"),
    ];
    round_trip(&table, &StateCode::ALL, StateCode::as_str, StateCode::parse);
    assert_eq!("pending_seal".parse::<StateCode>().unwrap(), PendingSeal);
    assert!("bogus".parse::<StateCode>().is_err());
    assert_eq!(Sealed.to_string(), "sealed");
    assert!(Sealed == "sealed" && Sealed != "unsealed");
}

#[test]
fn notice_statuses() {
    use NoticeStatus::*;
    let table = [
        (Pending, "pending"),
        (Retrying, "retrying"),
        (Delivered, "delivered"),
        (Failed, "failed"),
        (Acknowledged, "acknowledged"),
        (Available, "available"),
    ];
    round_trip(
        &table,
        &NoticeStatus::ALL,
        NoticeStatus::as_str,
        NoticeStatus::parse,
    );
    let error = "bogus".parse::<NoticeStatus>().unwrap_err();
    assert_eq!(error.to_string(), "`bogus` is not a notice status");
}

#[test]
fn notice_kinds() {
    let table = [(NoticeKind::Seal, "seal"), (NoticeKind::Unseal, "unseal")];
    round_trip(
        &table,
        &NoticeKind::ALL,
        NoticeKind::as_str,
        NoticeKind::parse,
    );
    assert!("bogus".parse::<NoticeKind>().is_err());
}

#[test]
fn request_statuses() {
    use RequestStatus::*;
    let table = [
        (Pending, "pending"),
        (Approved, "approved"),
        (Refused, "refused"),
        (Withdrawn, "withdrawn"),
    ];
    round_trip(
        &table,
        &RequestStatus::ALL,
        RequestStatus::as_str,
        RequestStatus::parse,
    );
    assert_eq!("approved".parse::<RequestStatus>().unwrap(), Approved);
}

#[test]
fn roles() {
    use Role::*;
    let table = [
        (Agency, "agency"),
        (Operator, "operator"),
        (Auditor, "auditor"),
        (Clerk, "clerk"),
        (Approver, "approver"),
        (Administrator, "administrator"),
        (Requester, "requester"),
        (PolicyMaker, "policy_maker"),
        (Person, "person"),
        (Supervisor, "supervisor"),
    ];
    round_trip(&table, &Role::ALL, Role::as_str, Role::parse);
    assert_eq!(Role::Clerk.code(), "clerk");
    let error = "root".parse::<Role>().unwrap_err();
    assert_eq!(error.to_string(), "`root` is not a role");
}

#[test]
fn requester_kinds_and_purposes() {
    use RequesterKind::*;
    let kinds = [
        (Court, "court"),
        (Procuratorate, "procuratorate"),
        (PublicSecurity, "public_security"),
        (StateSecurity, "state_security"),
        (JusticeAdministration, "justice_administration"),
        (SupervisionCommission, "supervision_commission"),
        (Employer, "employer"),
        (Person, "person"),
        (Lawyer, "lawyer"),
    ];
    round_trip(
        &kinds,
        &RequesterKind::ALL,
        RequesterKind::code,
        RequesterKind::parse,
    );
    let purposes = [
        (Purpose::CaseHandling, "case_handling"),
        (Purpose::NationalSecurityReview, "national_security_review"),
        (Purpose::SpecialPostVetting, "special_post_vetting"),
        (Purpose::Certificate, "certificate"),
        (Purpose::SelfInspection, "self_inspection"),
    ];
    round_trip(&purposes, &Purpose::ALL, Purpose::code, Purpose::parse);
}

#[test]
fn audit_kinds() {
    use AuditKind::*;
    let table = [
        (Transition, "transition"),
        (NoticeDelivery, "notice_delivery"),
        (NoticeAcknowledged, "notice_acknowledged"),
        (PolicyChanged, "policy_changed"),
        (RefreshFailed, "refresh_failed"),
        (Lookup, "lookup"),
        (Request, "request"),
        (Approval, "approval"),
        (Refusal, "refusal"),
        (GrantUse, "grant_use"),
        (GrantRevoked, "grant_revoked"),
        (Certificate, "certificate"),
        (UserChanged, "user_changed"),
        (KeyChanged, "key_changed"),
        (Login, "login"),
        (AuthenticationRefused, "authentication_refused"),
        (Forbidden, "forbidden"),
        (Read, "read"),
        (Correction, "correction"),
        (FlagReviewed, "flag_reviewed"),
    ];
    round_trip(&table, &AuditKind::ALL, AuditKind::as_str, AuditKind::parse);
    assert_eq!("grant_use".parse::<AuditKind>().unwrap(), GrantUse);
}

#[test]
fn correction_statuses() {
    use fengcun_store::CorrectionStatus::{self, *};
    let table = [(Open, "open"), (Accepted, "accepted"), (Refused, "refused")];
    round_trip(
        &table,
        &CorrectionStatus::ALL,
        CorrectionStatus::as_str,
        CorrectionStatus::parse,
    );
}

#[test]
fn certificate_results() {
    use CertificateOutcome::*;
    let table = [
        (NoCriminalRecord, "no_criminal_record"),
        (HasCriminalRecord, "has_criminal_record"),
    ];
    round_trip(
        &table,
        &CertificateOutcome::ALL,
        CertificateOutcome::as_str,
        CertificateOutcome::parse,
    );
}

#[test]
fn agency_kinds() {
    use AgencyKind::*;
    let table = [
        (PublicSecurity, "public_security"),
        (Procuratorate, "procuratorate"),
        (Court, "court"),
        (Prison, "prison"),
        (CommunityCorrection, "community_correction"),
        (StateSecurity, "state_security"),
    ];
    round_trip(
        &table,
        &AgencyKind::ALL,
        AgencyKind::code,
        AgencyKind::parse,
    );
}
