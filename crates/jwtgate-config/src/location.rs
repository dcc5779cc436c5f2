//! Where a secret expects its token: the `header` field (docs/compatibility.md 2.1).

/// The request location a secret reads its token from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenLocation {
    /// `Authorization: Bearer <token>` (the default).
    Authorization,
    /// The cookie of this exact, case-sensitive name.
    Cookie {
        /// The cookie name.
        name: String,
    },
    /// A custom header whose value is the bare token.
    CustomHeader {
        /// The header name, lower-cased once here so matching never allocates.
        name: String,
    },
}

impl TokenLocation {
    /// The canonical `type` name (`Authorization`, `Cookie`, `CustomHeader`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Authorization => "Authorization",
            Self::Cookie { .. } => "Cookie",
            Self::CustomHeader { .. } => "CustomHeader",
        }
    }
}
