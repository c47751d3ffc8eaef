//! Collects the errors of one derive, so that every mistake is reported at once.

use std::cell::RefCell;
use std::fmt::Display;
use std::thread;

use proc_macro2::Span;
use quote::ToTokens;

/// The errors found so far. Parsing and checking record into it and go on;
/// [`Ctxt::check`] hands them over at the end.
pub struct Ctxt {
    // `None` once checked: dropping an unchecked context is a bug (errors would be lost).
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// An empty context.
    pub fn new() -> Self {
        Self {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error underlining `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub fn error_at<M: Display>(&self, span: Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Records an error produced by syn (a syntax error).
    pub fn syn_error(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("context already checked")
            .push(error);
    }

    /// Consumes the context: `Ok` when nothing was recorded, otherwise every error, in order.
    pub fn check(self) -> Result<(), Vec<syn::Error>> {
        let errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("context already checked");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}
