//! The fields a Nexmark source can fill, per event kind, matched by name against the
//! declared schema (a schema may declare any subset, in any order).

use weir_engine::schema::{Schema, Type};
use weir_nexmark::EventKind;

use crate::connectors::options::names;
use crate::connectors::problem::ConfigProblem;
use crate::connectors::suggest::did_you_mean;

/// One field of a person, auction or bid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Column {
    // Person
    PersonId,
    Name,
    EmailAddress,
    CreditCard,
    City,
    State,
    // Auction
    AuctionId,
    ItemName,
    Description,
    InitialBid,
    Reserve,
    Expires,
    Seller,
    Category,
    // Bid
    Auction,
    Bidder,
    Price,
    Channel,
    Url,
    // Every kind
    DateTime,
    Extra,
}

const PERSON: &[(&str, Column)] = &[
    ("id", Column::PersonId),
    ("name", Column::Name),
    ("email_address", Column::EmailAddress),
    ("credit_card", Column::CreditCard),
    ("city", Column::City),
    ("state", Column::State),
    ("date_time", Column::DateTime),
    ("extra", Column::Extra),
];

const AUCTION: &[(&str, Column)] = &[
    ("id", Column::AuctionId),
    ("item_name", Column::ItemName),
    ("description", Column::Description),
    ("initial_bid", Column::InitialBid),
    ("reserve", Column::Reserve),
    ("date_time", Column::DateTime),
    ("expires", Column::Expires),
    ("seller", Column::Seller),
    ("category", Column::Category),
    ("extra", Column::Extra),
];

const BID: &[(&str, Column)] = &[
    ("auction", Column::Auction),
    ("bidder", Column::Bidder),
    ("price", Column::Price),
    ("channel", Column::Channel),
    ("url", Column::Url),
    ("date_time", Column::DateTime),
    ("extra", Column::Extra),
];

impl Column {
    /// The fields of events of `kind`, by name.
    pub fn of_kind(kind: EventKind) -> &'static [(&'static str, Column)] {
        match kind {
            EventKind::Person => PERSON,
            EventKind::Auction => AUCTION,
            EventKind::Bid => BID,
        }
    }

    /// The type of its values.
    pub fn ty(self) -> Type {
        match self {
            Column::Name
            | Column::EmailAddress
            | Column::CreditCard
            | Column::City
            | Column::State
            | Column::ItemName
            | Column::Description
            | Column::Channel
            | Column::Url
            | Column::Extra => Type::String,
            Column::DateTime | Column::Expires => Type::Timestamp,
            _ => Type::Int,
        }
    }

    /// The column of each field of `schema`, in slot order, or why a source of `kind`
    /// cannot fill it (unknown name, wrong type).
    pub fn for_schema(kind: EventKind, schema: &Schema) -> Result<Vec<Column>, Vec<ConfigProblem>> {
        let known = Column::of_kind(kind);
        let kind_name = match kind {
            EventKind::Person => "person",
            EventKind::Auction => "auction",
            EventKind::Bid => "bid",
        };
        let mut columns = Vec::with_capacity(schema.len());
        let mut problems = Vec::new();
        for field in &schema.fields {
            match known.iter().find(|(n, _)| *n == field.name) {
                Some((_, c)) if c.ty() == field.ty => columns.push(*c),
                Some((_, c)) => problems.push(
                    ConfigProblem::call(format!(
                        "field `{}` is declared `{}`, but a Nexmark {kind_name} has `{}`",
                        field.name,
                        field.ty,
                        c.ty()
                    ))
                    .with_help(format!(
                        "declare it as `{}: {}`",
                        field.name,
                        c.ty()
                    )),
                ),
                None => {
                    let help = match did_you_mean(&field.name, known.iter().map(|(n, _)| *n)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "a {kind_name} has: {}",
                            names(known.iter().map(|(n, _)| *n))
                        ),
                    };
                    problems.push(
                        ConfigProblem::call(format!(
                            "a Nexmark {kind_name} has no field `{}`",
                            field.name
                        ))
                        .with_help(help),
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(columns)
        } else {
            Err(problems)
        }
    }
}
