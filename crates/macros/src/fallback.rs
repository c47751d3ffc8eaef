//! What a failed derive expands to: the errors, plus stubs so that one mistake does not
//! cascade into "`Resource` is not implemented" and "no function named `stream`" errors
//! wherever the type is used.

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand::{self, Bodies};
use crate::model::Container;

/// Every error as a `compile_error!`, followed by stub impls (when the type can have them).
pub fn expand(cont: &Container<'_>, errors: Vec<syn::Error>) -> TokenStream {
    let errors = errors.iter().map(syn::Error::to_compile_error);
    // A type with a lifetime cannot be a resource at all: a stub would only add errors.
    let borrows = cont.generics.lifetimes().next().is_some();
    let stubs = if borrows {
        TokenStream::new()
    } else {
        expand::expand(cont, Bodies::Stub)
    };
    quote! {
        #(#errors)*
        #stubs
    }
}
