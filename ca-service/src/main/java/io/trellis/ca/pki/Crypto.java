package io.trellis.ca.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Key generation and signature choices. BouncyCastle is used as a provider object, never registered
 * globally: on Java 17 its ECDSA is several times faster than SunEC, which matters for issuance rate.
 */
public final class Crypto {
  public static final BouncyCastleProvider BC = new BouncyCastleProvider();
  private static final SecureRandom RANDOM = new SecureRandom();

  private Crypto() {}

  public static KeyPair ecKeyPair(String curve) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", BC);
      gen.initialize(new ECGenParameterSpec(curve), RANDOM);
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC key generation (" + curve + ")", e);
    }
  }

  public static KeyPair rsaKeyPair(int bits) {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA", BC);
      gen.initialize(bits, RANDOM);
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("RSA key generation (" + bits + " bits)", e);
    }
  }

  /** The JCA signature algorithm a CA key signs with: SHA-384 for P-384, SHA-256 otherwise. */
  public static String signatureAlgorithm(PrivateKey key) {
    if (key instanceof ECKey ec) {
      return ec.getParams().getCurve().getField().getFieldSize() > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
    }
    if (key instanceof RSAKey) {
      return "SHA256withRSA";
    }
    throw new IllegalArgumentException("key: " + key.getAlgorithm() + " (expected: EC or RSA)");
  }

  public static ContentSigner signer(PrivateKey key) {
    try {
      return new JcaContentSignerBuilder(signatureAlgorithm(key)).setProvider(BC).setSecureRandom(RANDOM).build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("signer for " + key.getAlgorithm(), e);
    }
  }

  static SecureRandom random() {
    return RANDOM;
  }

  /** A positive random 127-bit serial number (RFC 5280: at most 20 octets, unpredictable). */
  public static BigInteger serial() {
    return new BigInteger(127, RANDOM).setBit(126);
  }

  /** Whether {@code publicKey} belongs to {@code privateKey}: sign a challenge and verify it. */
  public static boolean keysMatch(PublicKey publicKey, PrivateKey privateKey) {
    try {
      String alg = signatureAlgorithm(privateKey);
      byte[] challenge = new byte[32];
      RANDOM.nextBytes(challenge);
      java.security.Signature s = java.security.Signature.getInstance(alg, BC);
      s.initSign(privateKey);
      s.update(challenge);
      byte[] sig = s.sign();
      java.security.Signature v = java.security.Signature.getInstance(alg, BC);
      v.initVerify(publicKey);
      v.update(challenge);
      return v.verify(sig);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
