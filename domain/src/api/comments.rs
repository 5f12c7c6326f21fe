//! Comments on an order: notes of the team, or messages the customer will see on the tracking page.

use crate::{CommentId, Cursor, FieldError, FieldErrors, UserId, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who may read a comment besides the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "comment_visibility", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommentVisibility {
    /// The organization's people only.
    Internal,
    /// Also shown to the customer on the tracking page.
    Customer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentView {
    pub id: CommentId,
    pub author_id: UserId,
    pub body: String,
    pub visibility: CommentVisibility,
    pub created_at: DateTime<Utc>,
}

/// `POST /orders/{id}/comments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCommentRequest {
    pub body: String,
    pub visibility: CommentVisibility,
}

/// A validated comment: the body trimmed, 1 to 5000 characters.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub body: String,
    pub visibility: CommentVisibility,
}

impl CreateCommentRequest {
    pub fn parse(&self) -> Result<NewComment, FieldErrors> {
        let mut v = Validator::default();
        let body = self.body.trim();
        let body = v.check(
            "body",
            if (1..=5000).contains(&body.chars().count()) {
                Ok(body.to_owned())
            } else {
                Err(FieldError::new("invalid_length", "must have 1 to 5000 characters"))
            },
        );
        v.finish(|| Some(NewComment { body: body?, visibility: self.visibility }))
    }
}

/// Query of `GET /orders/{id}/comments`: oldest first, after the cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListCommentsQuery {
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_trimmed_and_bounded() {
        let request = |body: &str| CreateCommentRequest { body: body.into(), visibility: CommentVisibility::Internal };
        assert_eq!(request("  hi ").parse().map(|c| c.body), Ok("hi".to_owned()));
        assert!(request("   ").parse().is_err());
        assert!(request(&"x".repeat(5001)).parse().is_err());
        assert!(request(&"é".repeat(5000)).parse().is_ok());
    }
}
