//! End-to-end tests: a real `Simulator` on a random port, driven over HTTP with reqwest.

mod helpers;

mod binary;
mod control;
mod convenience;
mod encrypted;
mod faults;
mod intercept;
mod journal;
mod login;
mod phone;
mod quotas;
mod security;
mod session;
mod state;
mod subscribe;
mod tokens;
mod wxacode;
