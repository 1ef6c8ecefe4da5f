import XCTest
@testable import TurnpikeLambda

final class SigV4SignerTests: XCTestCase {
    /// AWS's worked example "GET Object" (Amazon S3 API reference, "Signature Calculations
    /// for the Authorization Header: Transferring Payload in a Single Chunk").
    func testDocumentedS3GetObjectExample() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        XCTAssertEqual(SigV4Signer.hex(SigV4Signer.sha256([])), emptyHash)
        let authorization = signer.authorization(
            method: "GET", path: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                      ("x-amz-content-sha256", emptyHash), ("x-amz-date", "20130524T000000Z")],
            payloadHash: emptyHash, amzDate: "20130524T000000Z")
        XCTAssertEqual(authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }
}
