//! ow-api integration tests (one binary): the HTTP layer and every operation through
//! `app()` + `oneshot`, the query lifecycle, random-input properties, and real clients.

mod accounts;
mod common;
mod http;
mod load;
mod logs;
mod monitoring;
mod partial;
mod props;
mod queries;
mod sdk;
mod sdk_cloudwatch;
