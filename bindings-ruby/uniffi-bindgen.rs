//! uniffi's binding generator, built from the same uniffi as the library (their versions
//! must match): `uniffi-bindgen generate <liblms_bulk_upload_ruby.so> --language ruby`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
