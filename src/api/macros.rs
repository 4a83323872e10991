//! The methods every resource family has, generated once: its two list methods and its
//! get / create / update / delete.

/// Generates the two list methods of a resource family on `RunbeamClient`: the first page,
/// and the page iterator (the one paging shape of every list).
macro_rules! list_methods {
    ($Res:ty, $plural:literal, $index:ident, $list:ident, $pages:ident $(,)?) => {
        #[doc = concat!("**Listing ", $plural, "**: the first page, and a page iterator.")]
        impl crate::RunbeamClient {
            #[doc = concat!("Lists ", $plural, " (the first page).\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api) with the reason."]
            pub fn $list(
                &self,
                token: &str,
            ) -> Result<crate::api::PaginatedResponse<$Res>, crate::RunbeamError> {
                self.list_page(&crate::client::operations::$index, token, &[], None)
            }

            #[doc = concat!("Iterates over the pages of ", $plural, " (see [`PageIter`](crate::api::PageIter): `starting_at(n)` for page N, `collect_all()` for every item).")]
            pub fn $pages<'a>(&'a self, token: &'a str) -> crate::api::PageIter<'a, $Res> {
                crate::api::PageIter::new(self, &crate::client::operations::$index, token, None)
            }
        }
    };
}

/// Generates get / create / update / delete of a resource family on `RunbeamClient`.
macro_rules! crud_methods {
    ($Res:ty, $Req:ty, $singular:literal, $show:ident, $store:ident, $update:ident, $destroy:ident,
     $get:ident, $create:ident, $upd:ident, $delete:ident) => {
        #[doc = concat!("**Managing ", $singular, "**: get, create, update, delete.")]
        impl crate::RunbeamClient {
            #[doc = concat!("Fetches ", $singular, " by id.\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api); `is_not_found()` for an unknown id."]
            pub fn $get(&self, token: &str, id: &str) -> Result<$Res, crate::RunbeamError> {
                self.call_data(&crate::client::operations::$show, token, &[id], None::<&()>)
            }

            #[doc = concat!("Creates ", $singular, ".\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api); `validation_errors()` for a 422."]
            pub fn $create(&self, token: &str, request: &$Req) -> Result<$Res, crate::RunbeamError> {
                self.call_data(&crate::client::operations::$store, token, &[], Some(request))
            }

            #[doc = concat!("Replaces ", $singular, ".\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api)."]
            pub fn $upd(
                &self,
                token: &str,
                id: &str,
                request: &$Req,
            ) -> Result<$Res, crate::RunbeamError> {
                self.call_data(&crate::client::operations::$update, token, &[id], Some(request))
            }

            #[doc = concat!("Deletes ", $singular, ".\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api)."]
            pub fn $delete(
                &self,
                token: &str,
                id: &str,
            ) -> Result<crate::api::MessageResponse, crate::RunbeamError> {
                self.call(&crate::client::operations::$destroy, token, &[id], None::<&()>)
            }
        }
    };
}

pub(crate) use crud_methods;
pub(crate) use list_methods;
