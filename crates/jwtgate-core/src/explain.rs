//! Why a verdict is what it is: the steps verification took, recorded by the verification
//! itself as it goes (an observer that costs nothing when nobody asks), and hints for known traps.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderMap;

use crate::answer::Authenticated;
use crate::authenticator::Authenticator;
use crate::error::AuthError;
use crate::verify::{MayWait, NeverWait, Stop};
use crate::wait::FirstOf;

/// What a step looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepName {
    /// Where a token was looked for and found.
    Location,
    /// The token's JWS header.
    Header,
    /// Which secrets took the token, by location and issuer.
    Secret,
    /// One key considered.
    Key,
    /// The signature check.
    Signature,
    /// `exp` against the time.
    Exp,
    /// `nbf` against the time.
    Nbf,
    /// `iat` against the time.
    Iat,
    /// `iss` against `issuer`.
    Iss,
    /// `aud` against `audience`.
    Aud,
    /// Where the Hasura claims were found, and the session variables.
    Claims,
    /// The allowed, default and requested roles.
    Role,
    /// The admin secret header.
    AdminSecret,
    /// The unauthorized role.
    UnauthorizedRole,
    /// The answer.
    Verdict,
}

impl StepName {
    /// The name the explanation shows (`location`, `header`, `key` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Location => "location",
            Self::Header => "header",
            Self::Secret => "secret",
            Self::Key => "key",
            Self::Signature => "signature",
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iat => "iat",
            Self::Iss => "iss",
            Self::Aud => "aud",
            Self::Claims => "claims",
            Self::Role => "role",
            Self::AdminSecret => "admin_secret",
            Self::UnauthorizedRole => "unauthorized_role",
            Self::Verdict => "verdict",
        }
    }
}

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// Passed.
    Ok,
    /// Failed: this is where the denial comes from.
    Failed,
    /// Not applied (a key another `kid` names, a check without its claim).
    Skipped,
    /// Information.
    Info,
}

impl StepOutcome {
    /// `ok`, `failed`, `skipped` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Info => "info",
        }
    }
}

/// One step of an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// What it looked at.
    pub name: StepName,
    /// How it went.
    pub outcome: StepOutcome,
    /// What it found, in words (never a token, a key or a secret).
    pub detail: String,
}

/// A known trap the explained request fell into; `Display` is a fixed sentence, listed in
/// docs/errors.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// An `aud` claim that is an empty list fails every audience check.
    EmptyAudience,
    /// A time check failed by less than a minute.
    SmallClockSkew,
    /// `iss` and `issuer` differ only by a trailing slash.
    IssuerTrailingSlash,
    /// `iss` and `issuer` differ only by Entra ID's `/v2.0`.
    IssuerVersionSuffix,
    /// The token's `kid` is not in a key set that was just fetched again.
    KidUnknownAfterRefetch,
    /// The key set holds no usable key.
    KeySetEmpty,
    /// The `x-hasura-role` header names a role outside the allowed roles.
    RoleHeaderNotAllowed,
    /// An ID token (it carries `nonce` or `at_hash`) failed the audience check.
    IdTokenForAccessToken,
    /// An access token (it carries `scope` or `scp`) failed an audience that looks like a
    /// client id.
    AccessTokenForIdToken,
    /// A path in dot notation found nothing, but the token has a claim named by its steps joined
    /// with dots: that name needs brackets.
    DottedPathForSpecialName,
}

impl Hint {
    /// Every hint.
    pub const ALL: [Self; 10] = [
        Self::EmptyAudience,
        Self::SmallClockSkew,
        Self::IssuerTrailingSlash,
        Self::IssuerVersionSuffix,
        Self::KidUnknownAfterRefetch,
        Self::KeySetEmpty,
        Self::RoleHeaderNotAllowed,
        Self::IdTokenForAccessToken,
        Self::AccessTokenForIdToken,
        Self::DottedPathForSpecialName,
    ];

    /// A short name: `empty_audience`, `small_clock_skew`, `issuer_trailing_slash`,
    /// `issuer_version_suffix`, `kid_unknown_after_refetch`, `key_set_empty`,
    /// `role_header_not_allowed`, `id_token_for_access_token`, `access_token_for_id_token`,
    /// `dotted_path_for_special_name`.
    pub fn name(self) -> &'static str {
        match self {
            Self::EmptyAudience => "empty_audience",
            Self::SmallClockSkew => "small_clock_skew",
            Self::IssuerTrailingSlash => "issuer_trailing_slash",
            Self::IssuerVersionSuffix => "issuer_version_suffix",
            Self::KidUnknownAfterRefetch => "kid_unknown_after_refetch",
            Self::KeySetEmpty => "key_set_empty",
            Self::RoleHeaderNotAllowed => "role_header_not_allowed",
            Self::IdTokenForAccessToken => "id_token_for_access_token",
            Self::AccessTokenForIdToken => "access_token_for_id_token",
            Self::DottedPathForSpecialName => "dotted_path_for_special_name",
        }
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EmptyAudience => {
                "The token's aud is an empty list, which no audience check accepts; have the provider omit aud or name the API."
            }
            Self::SmallClockSkew => {
                "A time check failed by less than a minute: the provider's clock and this one differ; set allowed_skew to a few seconds."
            }
            Self::IssuerTrailingSlash => {
                "The issuer differs from the token's iss only by a trailing slash; copy iss exactly into issuer."
            }
            Self::IssuerVersionSuffix => {
                "The issuer differs from the token's iss only by /v2.0: the token is a v1.0 token for a v2.0 issuer (or the reverse); set accessTokenAcceptedVersion in the app manifest, or the matching issuer."
            }
            Self::KidUnknownAfterRefetch => {
                "The token's kid is not in the key set even after fetching it again: the token was signed by another provider, tenant or environment."
            }
            Self::KeySetEmpty => {
                "The key set holds no usable key: it could not be fetched, or every key in it was skipped; /readyz and the logs say why."
            }
            Self::RoleHeaderNotAllowed => {
                "The x-hasura-role header names a role that is not among the token's allowed roles."
            }
            Self::IdTokenForAccessToken => {
                "This looks like an ID token (it has nonce or at_hash), whose aud is the client id: send the access token issued for the API instead."
            }
            Self::AccessTokenForIdToken => {
                "This looks like an access token (it has scope or scp) checked against a client id audience: send the ID token, or set audience to the API's identifier."
            }
            Self::DottedPathForSpecialName => {
                "A path in dot notation found nothing, but the token has a claim whose name contains those dots: write it in brackets, as $[\"name.with.dots\"]."
            }
        })
    }
}

/// The steps of one explained request, its verdict, and the hints that apply.
#[derive(Debug)]
#[non_exhaustive]
pub struct Explanation {
    /// Exactly what authentication answers for the same headers at the same time.
    pub verdict: Result<Arc<Authenticated>, AuthError>,
    /// What happened, in order.
    pub steps: Vec<Step>,
    /// Known traps that apply, each once.
    pub hints: Vec<Hint>,
    /// Whether the request waited for a key set refetch (D6).
    pub waited: bool,
}

/// Records steps as verification takes them. The silent observer of ordinary requests compiles
/// to nothing: details are closures it never calls.
pub(crate) trait Observer {
    /// Whether steps are kept (explanation-only work is skipped when not).
    const RECORDS: bool;
    /// A step; `detail` is called only when steps are kept.
    fn step(&mut self, name: StepName, outcome: StepOutcome, detail: impl FnOnce() -> String);
    /// A hint that applies.
    fn hint(&mut self, hint: Hint);
    /// Notes the generation of the key set a pass read; answers whether the set was replaced
    /// since the pass before the wait for a refetch (so a `kid` it still lacks is really unknown).
    fn key_set_seen(&mut self, generation: u64) -> bool;
}

/// Ordinary requests: nothing recorded.
pub(crate) struct Silent;

impl Observer for Silent {
    const RECORDS: bool = false;

    #[inline]
    fn step(&mut self, _: StepName, _: StepOutcome, _: impl FnOnce() -> String) {}

    #[inline]
    fn hint(&mut self, _: Hint) {}

    #[inline]
    fn key_set_seen(&mut self, _: u64) -> bool {
        false
    }
}

/// An explained request: every step and hint kept.
#[derive(Default)]
pub(crate) struct Recorder {
    steps: Vec<Step>,
    hints: Vec<Hint>,
    /// The key set generation the pass before a wait read.
    before_wait: Option<u64>,
}

impl Observer for Recorder {
    const RECORDS: bool = true;

    fn step(&mut self, name: StepName, outcome: StepOutcome, detail: impl FnOnce() -> String) {
        self.steps.push(Step { name, outcome, detail: detail() });
    }

    fn hint(&mut self, hint: Hint) {
        if !self.hints.contains(&hint) {
            self.hints.push(hint);
        }
    }

    fn key_set_seen(&mut self, generation: u64) -> bool {
        if let Some(before) = self.before_wait {
            return before != generation;
        }
        self.before_wait = Some(generation);
        false
    }
}

impl Authenticator {
    /// Explains what [`authenticate_waiting`](Authenticator::authenticate_waiting) answers for
    /// these headers: the same path (a refetch for an unknown `kid` joined or started, and
    /// waited for under `timer`), but the verified-token cache is neither read nor written
    /// and nothing is counted.
    pub async fn explain<T: Future<Output = ()>>(
        &self,
        headers: &HeaderMap,
        now: impl Fn() -> SystemTime,
        timer: impl FnOnce() -> T,
    ) -> Explanation {
        let mut recorder = Recorder::default();
        let (verdict, waited) = match self.observed::<MayWait, _>(headers, now(), &mut recorder) {
            Ok(authenticated) => (Ok(authenticated), false),
            Err(Stop::Denied(error)) => (Err(error), false),
            Err(Stop::AwaitKeys(refetch)) => {
                FirstOf::new(refetch, timer()).await;
                // The answer comes from the pass after the wait; its steps replace the first's.
                recorder = Recorder { before_wait: recorder.before_wait, ..Recorder::default() };
                recorder.step(StepName::Key, StepOutcome::Info, || {
                    "the token's kid was not in the key set: waited for it to be fetched again"
                        .to_owned()
                });
                let verdict = match self.observed::<NeverWait, _>(headers, now(), &mut recorder) {
                    Ok(authenticated) => Ok(authenticated),
                    Err(Stop::Denied(error)) => Err(error),
                    Err(Stop::AwaitKeys(never)) => match never {},
                };
                (verdict, true)
            }
        };
        recorder.step(StepName::Verdict, verdict_outcome(&verdict), || match &verdict {
            Ok(authenticated) => format!("200, role {}", authenticated.session().role()),
            Err(error) => format!("401 {}: {error}", error.code()),
        });
        Explanation { verdict, steps: recorder.steps, hints: recorder.hints, waited }
    }
}

fn verdict_outcome(verdict: &Result<Arc<Authenticated>, AuthError>) -> StepOutcome {
    if verdict.is_ok() { StepOutcome::Ok } else { StepOutcome::Failed }
}
